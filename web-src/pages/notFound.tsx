/** The 404 page for browsers (src/http/routes/pageRoutes.ts serves its HTML). */
import type { JSX } from 'preact';
import { LanguageSwitch, mount } from '../ui/components.js';
import { onLanguage, text } from '../ui/i18n.js';

function NotFound(): JSX.Element {
  const t = text.value.notFound;
  return (
    <>
      <header class="bar">
        <h1>Parley</h1>
        <span class="spacer" />
        <LanguageSwitch />
      </header>
      <main class="not-found">
        <section class="card">
          <h2 id="not-found-title">{t.title}</h2>
          <p>{t.body(location.pathname)}</p>
          <p>
            <a id="home-link" class="button primary" href="/">
              {t.home}
            </a>
          </p>
        </section>
      </main>
    </>
  );
}

onLanguage((tx, l) => {
  document.title = `${tx.notFound.title} · Parley`;
  document.documentElement.lang = l;
});
mount('app', <NotFound />);
