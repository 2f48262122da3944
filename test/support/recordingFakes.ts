/**
 * Stand-ins for the recording service's storage in unit tests (test/recording-*.test.ts): recording rows kept in a
 * map, and an object store that takes every file and keeps none. The service under test is always the real one.
 */
import type { Recording, RecordingObjects, RecordingStore } from '../../src/domain/recordings/recording.js';

export function memoryStore(): RecordingStore & { rows: Map<string, Recording> } {
  const rows = new Map<string, Recording>();
  return {
    rows,
    add: async (r) => void rows.set(r.id, { ...r }),
    update: async (id, patch) => void rows.set(id, { ...rows.get(id)!, ...patch }),
    byName: async (name) => [...rows.values()].find((r) => r.name === name),
    list: async () => [...rows.values()],
    remove: async (id) => void rows.delete(id),
    endedBefore: async () => [],
    unfinished: async () => [],
  };
}

/** Every put "stores" 100 bytes; nothing is read back. */
export const nullObjects: RecordingObjects = {
  label: 'memory',
  put: async () => 100,
  size: async () => 100,
  read: async () => {
    throw new Error('not read here');
  },
  remove: async () => undefined,
};
