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

export interface NewUser {
  email: string;
  name: string;
  passwordHash: string;
  role: Role;
  /** Default 'active'; 'pending' for accounts that signed themselves up. */
  status?: 'active' | 'pending';
}

function newUserRow(input: NewUser): UsersTable {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    email: input.email.toLowerCase(),
    name: input.name,
    password_hash: input.passwordHash,
    role: input.role,
    status: input.status ?? 'active',
    created_at: now,
    updated_at: now,
  };
}

async function insertUser(db: Kysely<Database>, row: UsersTable): Promise<void> {
  try {
    await db.insertInto('users').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new ParleyError('CONFLICT', `an account with email ${row.email} already exists`);
    throw err;
  }
}

export class UserRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: NewUser): Promise<User> {
    const row = newUserRow(input);
    await insertUser(this.db, row);
    return publicUser(toUser(row));
  }

  /**
   * Creates the install's first admin, or returns undefined when the first admin was made
   * before. The claim on `first_admin`'s single row and the account are one transaction: of
   * concurrent callers exactly one commits (PostgreSQL makes the others wait on the key and
   * then fail it; SQLite runs one transaction at a time).
   */
  async createFirstAdmin(input: Omit<NewUser, 'role' | 'status'>): Promise<User | undefined> {
    const row = newUserRow({ ...input, role: 'admin', status: 'active' });
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx.insertInto('first_admin').values({ slot: 1, user_id: row.id, claimed_at: row.created_at }).execute();
        await insertUser(trx, row);
      });
    } catch (err) {
      if (err instanceof ParleyError) throw err;
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
    return publicUser(toUser(row));
  }

  async hasActiveAdmin(): Promise<boolean> {
    const row = await this.db.selectFrom('users').select('id').where('role', '=', 'admin').where('status', '=', 'active').limit(1).executeTakeFirst();
    return row !== undefined;
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
