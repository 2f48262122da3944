/**
 * The pages' retry of a change the cluster refused for now (issue 15 after issue 13;
 * web-src/ui/clusterRetry.ts): CLUSTER_UNAVAILABLE is sent again with a growing pause for about
 * 20 s in all while the page says "Reconnecting to the queue…", any other answer ends it at once,
 * and only the requests whose refusal changed nothing are retried. The policy runs on a fake
 * clock; the wiring through the typed /consult client runs over a real Socket.IO connection
 * whose server answers in Parley's ack shape ({ error: { code, message } }). No browser.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';

Object.defineProperty(globalThis, 'navigator', { value: { languages: ['en-US'], language: 'en-US' }, configurable: true });
const { queueRetrying, retryClusterUnavailable } = await import('../web-src/ui/clusterRetry.js');
const { consultSocket } = await import('../web-src/client/consult.js');
const { ApiError } = await import('../web-src/ui/rest.js');
const { EN, KO, errorSentence } = await import('../web-src/lib/consultationText.js');

/**
 * A clock that jumps: a pause moves its time forward and its callback runs on the next
 * microtask, so a 20 s budget takes no wall time. It notes each pause and whether the page was
 * being told "Reconnecting to the queue…" during it.
 */
function jumpingClock() {
  let t = 0;
  const pauses: Array<{ ms: number; shown: number }> = [];
  return {
    pauses,
    advance(ms: number): void {
      t += ms;
    },
    now: (): number => t,
    setTimeout: (fn: () => void, ms: number): unknown => {
      pauses.push({ ms, shown: queueRetrying.value });
      t += ms;
      queueMicrotask(fn);
      return undefined;
    },
  };
}

const refused = (): InstanceType<typeof ApiError> => new ApiError(0, 'CLUSTER_UNAVAILABLE', 'the node that routes consultations did not answer; try again in a few seconds');

/** Runs the policy against a server that refuses every try after `perTryMs`; answers the clock and how many tries there were. */
async function refusedEveryTime(perTryMs: number): Promise<{ clock: ReturnType<typeof jumpingClock>; tries: number }> {
  const clock = jumpingClock();
  let tries = 0;
  await assert.rejects(
    retryClusterUnavailable(
      async () => {
        tries++;
        clock.advance(perTryMs);
        throw refused();
      },
      { clock, random: () => 0.5 },
    ),
    (err: unknown) => err instanceof ApiError && err.code === 'CLUSTER_UNAVAILABLE',
  );
  return { clock, tries };
}

describe('retry while the cluster answers CLUSTER_UNAVAILABLE', () => {
  test('a refusal is sent again after 0.5 s, then 1 s, and the answer that comes is the one returned; the notice shows only meanwhile', async () => {
    const clock = jumpingClock();
    let tries = 0;
    const answer = await retryClusterUnavailable(
      async () => {
        tries++;
        if (tries < 3) throw refused();
        return 'available';
      },
      { clock, random: () => 0.5 },
    );
    assert.equal(answer, 'available');
    assert.equal(tries, 3);
    assert.deepEqual(clock.pauses, [
      { ms: 500, shown: 1 },
      { ms: 1000, shown: 1 },
    ]);
    assert.equal(queueRetrying.value, 0, 'the notice goes away once the change went through');
  });

  test('it gives up with the refusal once the next try would start after about 20 s, the pauses growing to 4 s', async () => {
    const { clock, tries } = await refusedEveryTime(0);
    assert.deepEqual(
      clock.pauses.map((p) => p.ms),
      [500, 1000, 2000, 4000, 4000, 4000, 4000],
    );
    assert.equal(tries, 8);
    assert.ok(clock.now() <= 20_000, `it stopped within the budget (${clock.now()} ms)`);
    assert.equal(queueRetrying.value, 0, 'the notice goes away when it gives up');
  });

  test('a server that waits 6 s before each refusal (the owner handing over) gets three tries in 20 s, not eight', async () => {
    const { clock, tries } = await refusedEveryTime(6_000);
    assert.equal(tries, 3);
    assert.deepEqual(
      clock.pauses.map((p) => p.ms),
      [500, 1000],
    );
  });

  test('the pauses are jittered within ±25 %, so consoles refused together do not all come back at once', async () => {
    for (const [random, first] of [
      [0, 375],
      [0.999, 625],
    ] as const) {
      const clock = jumpingClock();
      let tries = 0;
      await retryClusterUnavailable(
        async () => {
          if (tries++ === 0) throw refused();
          return true;
        },
        { clock, random: () => random },
      );
      assert.equal(clock.pauses[0]?.ms, first);
    }
  });

  test('any other answer ends it at once: a CONFLICT is not sent again and shows no notice', async () => {
    const clock = jumpingClock();
    let tries = 0;
    await assert.rejects(
      retryClusterUnavailable(
        async () => {
          tries++;
          throw new ApiError(0, 'CONFLICT', 'this call can no longer be taken');
        },
        { clock },
      ),
      (err: unknown) => err instanceof ApiError && err.code === 'CONFLICT',
    );
    assert.equal(tries, 1);
    assert.deepEqual(clock.pauses, []);
    assert.equal(queueRetrying.value, 0);
  });

  test('two changes retried at the same time keep the notice up until both are done', async () => {
    const waiting: Array<() => void> = [];
    const clock = { now: () => 0, setTimeout: (fn: () => void) => waiting.push(fn) };
    let a = 0;
    let b = 0;
    const first = retryClusterUnavailable(async () => (a++ === 0 ? Promise.reject(refused()) : 'a'), { clock });
    const second = retryClusterUnavailable(async () => (b++ === 0 ? Promise.reject(refused()) : 'b'), { clock });
    while (waiting.length < 2) await new Promise((r) => setImmediate(r));
    assert.equal(queueRetrying.value, 2);
    waiting.shift()!();
    assert.equal(await first, 'a');
    assert.equal(queueRetrying.value, 1, 'still shown: the other change is still waiting');
    waiting.shift()!();
    assert.equal(await second, 'b');
    assert.equal(queueRetrying.value, 0);
  });

  test('when it gives up, the page says in a sentence that nothing changed, in English and Korean', () => {
    assert.match(errorSentence(EN, refused()), /nothing was changed/);
    assert.match(errorSentence(KO, refused()), /아무것도 바뀌지 않았습니다/);
  });
});

describe('the typed /consult client retries only the requests whose refusal changed nothing', () => {
  let server: Server;
  let url: string;
  let socket: Socket;
  const seen: string[] = [];

  before(async () => {
    const http = createServer();
    server = new Server(http, { transports: ['websocket'] });
    let setStateTries = 0;
    server.of('/consult').on('connection', (s) => {
      s.on('agent:set-state', (_data: unknown, ack: (r: unknown) => void) => {
        seen.push('agent:set-state');
        setStateTries++;
        ack(setStateTries < 3 ? { error: { code: 'CLUSTER_UNAVAILABLE', message: 'no node routes consultations right now; try again in a few seconds' } } : { agent: { state: 'available' } });
      });
      s.on('consultation:accept', (_data: unknown, ack: (r: unknown) => void) => {
        seen.push('consultation:accept');
        ack({ error: { code: 'CLUSTER_UNAVAILABLE', message: 'the node that routes consultations did not answer; try again in a few seconds' } });
      });
      s.on('consultation:end', (_data: unknown, ack: (r: unknown) => void) => {
        seen.push('consultation:end');
        ack({ error: { code: 'CLUSTER_UNAVAILABLE', message: 'try again in a few seconds' } });
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    socket = io(`${url}/consult`, { transports: ['websocket'] });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
  });
  after(async () => {
    socket?.disconnect();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('agent:set-state refused twice is sent three times and answers the state', async () => {
    seen.length = 0;
    const clock = jumpingClock();
    const res = await consultSocket(socket, { clock, random: () => 0.5 }).ask('agent:set-state', { state: 'available' });
    assert.deepEqual(res, { agent: { state: 'available' } });
    assert.deepEqual(seen, ['agent:set-state', 'agent:set-state', 'agent:set-state']);
  });

  test('consultation:accept refused for good gives up with CLUSTER_UNAVAILABLE within the budget', async () => {
    seen.length = 0;
    const clock = jumpingClock();
    await assert.rejects(consultSocket(socket, { clock, random: () => 0.5 }).ask('consultation:accept', { consultationId: '00000000-0000-4000-8000-000000000000' }), (err: unknown) => err instanceof ApiError && err.code === 'CLUSTER_UNAVAILABLE');
    assert.equal(seen.length, 8);
    assert.ok(clock.now() <= 20_000);
  });

  test('consultation:end is not sent again: the stored end is not what the cluster refused', async () => {
    seen.length = 0;
    const clock = jumpingClock();
    await assert.rejects(consultSocket(socket, { clock }).ask('consultation:end', { consultationId: '00000000-0000-4000-8000-000000000000' }), (err: unknown) => err instanceof ApiError && err.code === 'CLUSTER_UNAVAILABLE');
    assert.deepEqual(seen, ['consultation:end']);
    assert.deepEqual(clock.pauses, []);
  });
});
