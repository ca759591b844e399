// SPDX-License-Identifier: Apache-2.0
// @ts-check
// htm bound to Preact's h: html`<p>${text}</p>` builds elements; text is always escaped.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
