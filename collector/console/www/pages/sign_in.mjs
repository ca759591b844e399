// SPDX-License-Identifier: Apache-2.0
// @ts-check
// Sign in: the staff token is exchanged once for a session; the page keeps no copy of it.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.mjs';
import { errorText, post } from '../lib/api.mjs';
import { ErrorBox, PageTitle } from '../lib/components.mjs';

/** @param {{notice: string, onSignedIn: (me: import('../lib/api.mjs').Me) => void}} props */
export function SignIn({ notice, onSignedIn }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.currentTarget);
    const field = /** @type {HTMLInputElement} */ (form.elements.namedItem('token'));
    const token = field.value.trim();
    if (!token) {
      setError('Paste your staff token first.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      const { data } = await post('/v1/staff/session', { json: { token } });
      field.value = '';
      onSignedIn(data);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return html`<main id="main" class="sign-in">
    <${PageTitle}>Sign in to Ward<//>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
    <form onSubmit=${submit} novalidate>
      <label for="token">Staff token</label>
      <p class="hint" id="token-hint">
        The token IT gave you (it starts with wst_). It is swapped for a session that ends
        when you sign out or leave the console unused; the browser does not keep the token.
      </p>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false"
        aria-describedby="token-hint" required />
      <${ErrorBox} message=${error} />
      <button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`;
}
