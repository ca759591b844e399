// SPDX-License-Identifier: Apache-2.0
// @ts-check
// A paged list from the staff API (docs/collector.md: `limit`, `Ward-Next-Cursor`): the first
// page, again whenever what it depends on changes, and the next one on request.
import { useEffect, useState } from 'preact/hooks';
import { errorText, get } from './api.mjs';

/**
 * @template T
 * @param {(cursor: string) => string} pathFor the call for a page ('' for the first)
 * @param {unknown[]} deps the first page is fetched again when one of these changes
 * @param {boolean} [background] the first page is the page's own refresh, not the person's
 */
export function usePagedList(pathFor, deps, background = false) {
  const [items, setItems] = useState(/** @type {T[] | null} */ (null));
  const [next, setNext] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  useEffect(() => {
    let live = true;
    if (!background) {
      setItems(null);  // a new list: "Loading", not the old one
    }
    get(pathFor(''), { background })
      .then(({ data, next: n }) => {
        if (live) {
          setItems(data);
          setNext(n);
          setError('');
        }
      })
      .catch((e) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, deps);

  const more = async () => {
    setBusy(true);
    try {
      const page = await get(pathFor(next));
      setItems([...(items ?? []), ...page.data]);
      setNext(page.next);
    } catch (e) {
      setError(errorText(e));
    }
    setBusy(false);
  };

  return { items, next, busy, error, more };
}
