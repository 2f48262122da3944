/** Agent and admin accounts. Customers have no account: they hold room tokens. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ParleyError } from '../errors.js';
import { toDate, type Database, type Role, type UserStatus, type UsersTable } from './schema.js';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  status: UserStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface UserWithHash extends User {
  passwordHash: string;
}

function toUser(row: UsersTable): UserWithHash {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    passwordHash: row.password_hash,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

export function publicUser(u: User): User {
  return { id: u.id, email: u.email, name: u.name, role: u.role, status: u.status, createdAt: u.createdAt, updatedAt: u.updatedAt };
}

export class UserRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: { email: string; name: string; passwordHash: string; role: Role }): Promise<User> {
    const now = new Date().toISOString();
    const row: UsersTable = {
      id: randomUUID(),
      email: input.email.toLowerCase(),
      name: input.name,
      password_hash: input.passwordHash,
      role: input.role,
      status: 'active',
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ParleyError('CONFLICT', `an account with email ${row.email} already exists`);
      throw err;
    }
    return publicUser(toUser(row));
  }

  async count(): Promise<number> {
    const r = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async findByEmail(email: string): Promise<UserWithHash | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
    return row ? toUser(row) : undefined;
  }

  async findById(id: string): Promise<UserWithHash | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : undefined;
  }

  async list(): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().where('status', '!=', 'withdrawn').orderBy('created_at').execute();
    return rows.map((r) => publicUser(toUser(r)));
  }

  async update(id: string, patch: { role?: Role; status?: UserStatus; name?: string; passwordHash?: string; email?: string }): Promise<User> {
    const values: Partial<UsersTable> = { updated_at: new Date().toISOString() };
    if (patch.role) values.role = patch.role;
    if (patch.status) values.status = patch.status;
    if (patch.name) values.name = patch.name;
    if (patch.passwordHash) values.password_hash = patch.passwordHash;
    if (patch.email) values.email = patch.email;
    await this.db.updateTable('users').set(values).where('id', '=', id).execute();
    const u = await this.findById(id);
    if (!u) throw new ParleyError('NOT_FOUND', `no user ${id}`);
    return publicUser(u);
  }
}

/** SQLite: "UNIQUE constraint failed"; PostgreSQL: SQLSTATE 23505. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || (typeof e.message === 'string' && e.message.includes('UNIQUE constraint failed'));
}
