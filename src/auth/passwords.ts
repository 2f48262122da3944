/** Password hashing with Argon2id (memory-hard; OWASP's first choice), via @node-rs/argon2. */
import { hash, verify } from '@node-rs/argon2';

// OWASP minimum for Argon2id: 19 MiB memory, 2 iterations, 1 lane.
const options = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, options);
}

export async function verifyPassword(hashed: string, password: string): Promise<boolean> {
  try {
    return await verify(hashed, password);
  } catch {
    return false;
  }
}
