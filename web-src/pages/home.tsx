/**
 * Home page (web/index.html): what Parley is, where each role goes, and whether the server
 * answers (`GET /health`). Bundled into web/assets/home.js.
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import { fetchHealth } from '../ui/rest.js';
import { Badge, LanguageSwitch, mount } from '../ui/components.js';
import { formatWhen } from '../ui/format.js';
import { onLanguage, text } from '../ui/i18n.js';
import type { HealthAnswer } from '../../src/http/routes/healthRoutes.js';

const health = signal<{ answer: HealthAnswer | undefined; at: number } | 'checking'>('checking');

function Status(): JSX.Element {
  const t = text.value.home;
  const h = health.value;
  if (h === 'checking') return <p id="health" data-health="checking" class="muted">{t.checking}</p>;
  const code = !h.answer ? 'down' : h.answer.status === 'ok' ? 'up' : 'degraded';
  return (
    <p id="health" data-health={code}>
      <Badge code={code === 'up' ? 'available' : code === 'degraded' ? 'ringing' : 'offline'} label={t[code]} /> <span class="muted">{t.checkedAt(formatWhen(h.at))}</span>
    </p>
  );
}

function Home(): JSX.Element {
  const t = text.value.home;
  const roles: Array<{ id: string; href: string | null; title: string; body: string }> = [
    { id: 'role-customer', href: null, title: t.customer, body: t.customerBody },
    { id: 'role-agent', href: '/agent/', title: t.agent, body: t.agentBody },
    { id: 'role-admin', href: '/admin/', title: t.admin, body: t.adminBody },
    { id: 'role-voice', href: '/voice/', title: t.voice, body: t.voiceBody },
    { id: 'role-demo', href: '/demo/p2p.html', title: t.demo, body: t.demoBody },
  ];
  return (
    <>
      <header class="bar">
        <h1>{t.title}</h1>
        <span class="spacer" />
        <LanguageSwitch />
      </header>
      <main class="home">
        <section class="hero">
          <p class="tagline">{t.tagline}</p>
          <p>{t.what}</p>
        </section>
        <h2>{t.roles}</h2>
        <div class="role-grid">
          {roles.map((r) =>
            r.href ? (
              <a id={r.id} key={r.id} class="card role" href={r.href}>
                <strong>{r.title}</strong>
                <span class="muted">{r.body}</span>
              </a>
            ) : (
              <div id={r.id} key={r.id} class="card role">
                <strong>{r.title}</strong>
                <span class="muted">{r.body}</span>
              </div>
            ),
          )}
        </div>
        <section class="card">
          <h2>{t.status}</h2>
          <Status />
        </section>
      </main>
    </>
  );
}

onLanguage((tx, l) => {
  document.title = tx.home.title;
  document.documentElement.lang = l;
});
mount('app', <Home />);
void fetchHealth().then((answer) => (health.value = { answer, at: Date.now() }));
(window as unknown as { parley: { state: () => string } }).parley = { state: () => (health.value === 'checking' ? 'checking' : 'ready') };
