/** Response and request pieces shared by the REST routes (zod → validation + OpenAPI). */
import { z } from 'zod';
import type { User } from '../../storage/userRepository.js';

export const errorBody = z.object({
  success: z.literal(false),
  error: z.object({ code: z.string(), message: z.string() }).loose(),
});

export const userBody = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(['customer', 'agent', 'admin']),
  status: z.enum(['active', 'pending', 'disabled', 'withdrawn']),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export function userView(u: User): z.infer<typeof userBody> {
  return { id: u.id, email: u.email, name: u.name, role: u.role, status: u.status, createdAt: u.createdAt.toISOString(), updatedAt: u.updatedAt.toISOString() };
}

export const email = z.email().max(254);
export const password = z.string().min(8, 'must be at least 8 characters').max(256);
export const displayName = z.string().trim().min(1).max(100);

export const bearerSecurity = [{ bearerAuth: [] }];
