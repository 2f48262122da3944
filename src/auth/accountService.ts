/** Member management from seed 003: sign up, sign in, sign out, withdraw; admins manage accounts. */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ParleyError } from '../errors.js';
import type { AuthSessionRepository } from '../storage/authSessionRepository.js';
import type { Role } from '../storage/schema.js';
import type { User, UserRepository } from '../storage/userRepository.js';
import { accountSession, type Identity } from './identity.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { TokenService } from './tokens.js';

export interface SignInResult {
  accessToken: string;
  tokenType: 'Bearer';
  expiresAt: string;
  user: User;
}

// A real hash so that an unknown email costs the same time as a wrong password.
const dummyHash = hashPassword(randomUUID());

export type RevocationReason = 'signed-out' | 'account-disabled' | 'password-reset' | 'account-withdrawn' | 'role-changed';

export interface AccountEvents {
  /**
   * Live connections authenticated as this account (or this one session) must end: tokens
   * are checked when a connection opens, so sockets opened before the change would outlive
   * it. A role change ends them too, so they reconnect with the new role.
   */
  revoked: [{ userId: string; sessionId?: string; reason: RevocationReason }];
}

export class AccountService extends EventEmitter<AccountEvents> {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: AuthSessionRepository,
    private readonly tokens: TokenService,
    private readonly signupOpen: boolean,
  ) {
    super();
  }

  /** Open sign-up creates an agent; the very first account of a fresh install becomes admin. */
  async signUp(input: { email: string; password: string; name: string }): Promise<User> {
    const first = (await this.users.count()) === 0;
    if (!this.signupOpen && !first) throw new ParleyError('FORBIDDEN', 'sign-up is closed on this server; ask an admin to create your account');
    return this.users.create({ email: input.email, name: input.name, passwordHash: await hashPassword(input.password), role: first ? 'admin' : 'agent' });
  }

  async createByAdmin(input: { email: string; password: string; name: string; role: Role }): Promise<User> {
    if (input.role === 'customer') throw new ParleyError('INVALID_PAYLOAD', 'accounts are for agents and admins; customers use room tokens');
    return this.users.create({ email: input.email, name: input.name, passwordHash: await hashPassword(input.password), role: input.role });
  }

  async signIn(email: string, password: string): Promise<SignInResult> {
    const user = await this.users.findByEmail(email);
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash), password);
    if (!user || !ok) throw new ParleyError('UNAUTHORIZED', 'wrong email or password');
    if (user.status !== 'active') throw new ParleyError('FORBIDDEN', `account is ${user.status}`);
    const sessionId = randomUUID();
    const { token, expiresAt } = await this.tokens.issueAccessToken({ userId: user.id, role: user.role, name: user.name, sessionId });
    await this.sessions.create(sessionId, user.id, expiresAt);
    const { passwordHash: _omit, ...pub } = user;
    return { accessToken: token, tokenType: 'Bearer', expiresAt: expiresAt.toISOString(), user: pub };
  }

  async signOut(identity: Identity): Promise<void> {
    const sessionId = accountSession(identity);
    if (!sessionId) return;
    await this.sessions.revoke(sessionId);
    this.emit('revoked', { userId: identity.userId, sessionId, reason: 'signed-out' });
  }

  /** Withdrawal: the password confirms it; the account is closed and its email freed. */
  async withdraw(identity: Identity, password: string): Promise<void> {
    const user = await this.users.findById(identity.userId);
    if (!user || !(await verifyPassword(user.passwordHash, password))) throw new ParleyError('UNAUTHORIZED', 'wrong password');
    await this.sessions.revokeAllForUser(user.id);
    await this.users.update(user.id, { status: 'withdrawn', email: `withdrawn+${user.id}@parley.invalid` });
    this.emit('revoked', { userId: user.id, reason: 'account-withdrawn' });
  }

  async setStatus(userId: string, status: 'active' | 'disabled'): Promise<User> {
    const user = await this.users.findById(userId);
    if (!user || user.status === 'withdrawn') throw new ParleyError('NOT_FOUND', `no account ${userId}`);
    if (status === 'disabled') await this.sessions.revokeAllForUser(userId);
    const updated = await this.users.update(userId, { status });
    if (status === 'disabled') this.emit('revoked', { userId, reason: 'account-disabled' });
    return updated;
  }

  async setRole(userId: string, role: 'agent' | 'admin'): Promise<User> {
    const user = await this.users.findById(userId);
    if (!user || user.status === 'withdrawn') throw new ParleyError('NOT_FOUND', `no account ${userId}`);
    const updated = await this.users.update(userId, { role });
    if (role !== user.role) this.emit('revoked', { userId, reason: 'role-changed' });
    return updated;
  }

  async resetPassword(userId: string, password: string): Promise<User> {
    const user = await this.users.findById(userId);
    if (!user || user.status === 'withdrawn') throw new ParleyError('NOT_FOUND', `no account ${userId}`);
    await this.sessions.revokeAllForUser(userId);
    const updated = await this.users.update(userId, { passwordHash: await hashPassword(password) });
    this.emit('revoked', { userId, reason: 'password-reset' });
    return updated;
  }

  async get(userId: string): Promise<User> {
    const user = await this.users.findById(userId);
    if (!user || user.status === 'withdrawn') throw new ParleyError('NOT_FOUND', `no account ${userId}`);
    const { passwordHash: _omit, ...pub } = user;
    return pub;
  }

  list(): Promise<User[]> {
    return this.users.list();
  }
}
