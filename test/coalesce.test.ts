/** Snapshot pushes (board, queue, places in line) run at most once per interval, and never drop the last change. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coalesce } from '../src/util/coalesce.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a burst of changes runs once soon and once more at the end of the interval, with the latest state', async () => {
  const seen: number[] = [];
  let state = 0;
  const push = coalesce(() => seen.push(state), 100);
  state = 1;
  push();
  await sleep(20);
  assert.deepEqual(seen, [1], 'the first change after a quiet period goes out at once');
  for (let i = 2; i <= 50; i++) {
    state = i;
    push();
  }
  assert.deepEqual(seen, [1], 'changes inside the interval wait');
  await sleep(150);
  assert.deepEqual(seen, [1, 50], 'one push carries the latest state');
  await sleep(150);
  assert.deepEqual(seen, [1, 50], 'nothing more without a change');
  push.cancel();
});

test('cancel drops a pending push', async () => {
  let runs = 0;
  const push = coalesce(() => (runs += 1), 50);
  push();
  await sleep(10);
  push();
  push.cancel();
  await sleep(100);
  assert.equal(runs, 1);
});
