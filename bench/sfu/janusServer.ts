/**
 * Janus (Debian's `janus` package) as a target of the fan-out benchmark: installs it when it is
 * missing (apt-get, idempotent), writes a config of its own into a temp dir (VideoRoom plugin and
 * the plain HTTP transport only, on 127.0.0.1; every other plugin, transport, logger and event
 * handler off; no session timeout), and starts it as a child process of the benchmark.
 *
 * Janus is run as Debian ships it: full ICE (libnice), half-trickle, DTLS-SRTP with OpenSSL,
 * its own RTCP (sender reports, NACK buffers), one thread per handle.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LIBDIR_CANDIDATES = ['/usr/lib/x86_64-linux-gnu/janus', '/usr/lib/aarch64-linux-gnu/janus', '/usr/lib/janus', '/usr/local/lib/janus'];

function janusBinary(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v janus'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

/** Makes sure `janus` is installed: installs Debian's package when it is not. Returns the binary's version line. */
export function ensureJanus(log: (s: string) => void): string {
  if (!janusBinary()) {
    log('  janus is not installed: apt-get install -y --no-install-recommends janus');
    const root = process.getuid?.() === 0;
    const sudo = root ? [] : ['sudo', '-n'];
    const run = (args: string[]): number => {
      const [cmd, ...rest] = [...sudo, ...args];
      const r = spawnSync(cmd!, rest, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      return r.status ?? 1;
    };
    if (run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'janus']) !== 0) {
      // The package lists may be stale or missing: refresh them once and try again.
      run(['apt-get', 'update', '-qq']);
      if (run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'janus']) !== 0) {
        throw new Error(
          "janus: Debian's package could not be installed (apt-get failed). Install it yourself (`sudo apt-get install janus`, Debian 12 ships 1.1.2), or run without it: --target=parley,udp",
        );
      }
    }
    if (!janusBinary()) throw new Error('janus: apt-get said it installed the package, but no `janus` binary is on PATH');
  }
  const v = spawnSync('janus', ['--version'], { encoding: 'utf8' });
  return (v.stdout || v.stderr).split('\n').find((l) => l.startsWith('Janus version')) ?? 'janus (version unknown)';
}

export interface JanusServer {
  pid: number;
  /** The HTTP API's base URL, e.g. http://127.0.0.1:18088/janus */
  url: string;
  dir: string;
  stop(): Promise<void>;
}

const living = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of living) p.kill('SIGKILL');
});

/** The address Janus's ICE candidates carry: on a veth pair that exists only inside the benchmark's own network namespace. */
export const JANUS_ICE_ADDRESS = '10.255.77.1';
const JANUS_IFACE = 'pjanus0';

/**
 * Janus gathers ICE candidates only on non-loopback interfaces, and the benchmark runs in a
 * namespace that has only `lo`. So a veth pair is made there (both ends in the namespace, no
 * route out) with a /32 address: traffic to it still goes through the kernel's loopback path.
 */
function ensureJanusInterface(): void {
  if (process.env.SFU_BENCH_IN_NETNS !== '1') throw new Error('janus: the benchmark must run in its own network namespace (it re-executes itself under unshare)');
  const have = spawnSync('ip', ['-o', 'addr', 'show', 'dev', JANUS_IFACE], { encoding: 'utf8' });
  if (have.status === 0 && have.stdout.includes(JANUS_ICE_ADDRESS)) return;
  const steps = [
    ['link', 'add', JANUS_IFACE, 'type', 'veth', 'peer', 'name', 'pjanus1'],
    ['addr', 'add', `${JANUS_ICE_ADDRESS}/32`, 'dev', JANUS_IFACE],
    ['link', 'set', JANUS_IFACE, 'up'],
    ['link', 'set', 'pjanus1', 'up'],
  ];
  for (const args of steps) {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`janus: \`ip ${args.join(' ')}\` failed in the benchmark's namespace (${r.stderr.trim()}); Janus needs a non-loopback interface for its ICE candidates`);
  }
}

export async function startJanus(port: number): Promise<JanusServer> {
  ensureJanusInterface();
  const libdir = LIBDIR_CANDIDATES.find((d) => existsSync(join(d, 'plugins', 'libjanus_videoroom.so')));
  if (!libdir) throw new Error(`janus: no libjanus_videoroom.so under ${LIBDIR_CANDIDATES.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'sfu-fanout-janus-'));
  const others = ['audiobridge', 'echotest', 'recordplay', 'sip', 'nosip', 'streaming', 'textroom', 'videocall', 'voicemail', 'duktape', 'lua'].map((p) => `libjanus_${p}.so`);
  const transports = ['websockets', 'pfunix', 'mqtt', 'nanomsg', 'rabbitmq'].map((t) => `libjanus_${t}.so`);
  writeFileSync(
    join(dir, 'janus.jcfg'),
    `general: {
  configs_folder = "${dir}"
  plugins_folder = "${libdir}/plugins"
  transports_folder = "${libdir}/transports"
  events_folder = "${libdir}/events"
  loggers_folder = "${libdir}/loggers"
  debug_level = 3
  session_timeout = 0
  hide_dependencies = true
}
media: {
  rtp_port_range = "30000-60000"
}
nat: {
  nice_debug = false
  ice_enforce_list = "${JANUS_IFACE}"
  ignore_mdns = true
}
plugins: { disable = "${others.join(',')}" }
transports: { disable = "${transports.join(',')}" }
loggers: { disable = "libjanus_jsonlog.so" }
events: { broadcast = false }
`,
  );
  writeFileSync(join(dir, 'janus.transport.http.jcfg'), `general: { json = "compact"; base_path = "/janus"; http = true; port = ${port}; ip = "127.0.0.1" }\nadmin: { admin_http = false }\n`);
  writeFileSync(join(dir, 'janus.plugin.videoroom.jcfg'), 'general: { }\n');
  const logPath = join(dir, 'janus.log');
  const out = openSync(logPath, 'a');
  const proc = spawn('janus', ['-F', dir, '-C', join(dir, 'janus.jcfg')], { stdio: ['ignore', out, out] });
  living.add(proc);
  proc.once('exit', () => living.delete(proc));
  const url = `http://127.0.0.1:${port}/janus`;
  const until = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`janus exited at start (code ${proc.exitCode}); its log: ${logPath}\n${readFileSync(logPath, 'utf8').slice(-2000)}`);
    try {
      const r = await fetch(`${url}/info`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > until) {
      proc.kill('SIGKILL');
      throw new Error(`janus did not answer on ${url}/info within 20 s; its log: ${logPath}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    pid: proc.pid!,
    url,
    dir,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(t);
    },
  };
}
