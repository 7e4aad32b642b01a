import { ApiError, explain, get, token } from './api.js';
import { auditPage } from './audit.js';
import { h, replace, status } from './dom.js';
import { extensionPage, extensionsPage } from './extensions.js';
import { livePage } from './live.js';
import { simulatePage } from './simulate.js';
import { sourcesPage } from './sources.js';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
let leaving = new AbortController();

function login(problem = ''): void {
  nav.hidden = true;
  const input = h('input', { id: 'token', name: 'token', type: 'password', required: true, autocomplete: 'off' });
  const message = status(problem, problem ? 'error' : 'info');
  const form = h(
    'form',
    { id: 'login', class: 'login' },
    h('h1', {}, 'dialguard'),
    h('label', { for: 'token' }, 'API token'),
    h('p', { class: 'help' }, 'An admin or auditor token (dialguard token create). It is kept for this browser tab only.'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    message,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    token.set(input.value.trim());
    get('/extensions?limit=1')
      .then(() => route())
      .catch((err: unknown) => {
        token.clear();
        login(err instanceof ApiError && err.status === 401 ? 'That token is not valid.' : explain(err));
      });
  });
  replace(main, form);
  input.focus();
}

/** Pages are addressed by the URL's fragment, so the back button and bookmarks work. */
async function route(): Promise<void> {
  leaving.abort();
  leaving = new AbortController();
  if (!token.get()) return login();
  nav.hidden = false;
  const [page, arg] = location.hash.slice(1).split('/');
  for (const link of nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === `#${page || 'live'}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  try {
    if (page === 'extensions' && arg) await extensionPage(main, decodeURIComponent(arg));
    else if (page === 'extensions') await extensionsPage(main);
    else if (page === 'audit') await auditPage(main);
    else if (page === 'simulate') simulatePage(main);
    else if (page === 'sources') await sourcesPage(main);
    else await livePage(main, leaving.signal);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      token.clear();
      return login('The token is no longer accepted: sign in again.');
    }
    replace(main, status(`Could not load the page: ${explain(err)}`, 'error'));
  }
  document.title = `dialguard · ${main.querySelector('h1')?.textContent ?? ''}`;
}

document.getElementById('logout')?.addEventListener('click', () => {
  token.clear();
  void route();
});
window.addEventListener('hashchange', () => void route());
void route();
