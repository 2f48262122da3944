/** Response and request pieces shared by the REST routes (zod → validation + OpenAPI). */
import { z } from 'zod';
import type { User } from '../../storage/userRepository.js';

import { userBody } from '../../contracts/rest.js';

// The bodies themselves are the pages' contract too (src/contracts/rest.ts).
export { displayName, email, errorBody, password, userBody } from '../../contracts/rest.js';

export function userView(u: User): z.infer<typeof userBody> {
  return { id: u.id, email: u.email, name: u.name, role: u.role, status: u.status, createdAt: u.createdAt.toISOString(), updatedAt: u.updatedAt.toISOString() };
}


export const bearerSecurity = [{ bearerAuth: [] }];
