/** Member management from seed 003: sign up, sign in, sign out, withdraw; admins manage accounts. */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ParleyError } from '../errors.js';
import type { AuthSessionRepository } from '../storage/authSessionRepository.js';
import type { Role } from '../storage/schema.js';
import type { User, UserRepository } from '../storage/userRepository.js';
import { accountSession, type Identity } from './identity.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { SignInThrottle } from './signInThrottle.js';
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
    private readonly throttle: SignInThrottle,
  ) {
    super();
  }

  /**
   * The very first account of a fresh install becomes admin (once, atomically: see
   * UserRepository.createFirstAdmin). After that, open sign-up creates a `pending` agent that
   * cannot sign in, see customers or take calls until an admin approves it.
   */
  async signUp(input: { email: string; password: string; name: string }): Promise<User> {
    const passwordHash = await hashPassword(input.password);
    const admin = await this.users.createFirstAdmin({ email: input.email, name: input.name, passwordHash });
    if (admin) return admin;
    if (!this.signupOpen) throw new ParleyError('FORBIDDEN', 'sign-up is closed on this server; ask an admin to create your account');
    return this.users.create({ email: input.email, name: input.name, passwordHash, role: 'agent', status: 'pending' });
  }

  /**
   * ADMIN_EMAIL/ADMIN_PASSWORD at start: makes that admin when the install has no active admin.
   * Idempotent: 'exists' when an active admin is there already (the password is not touched).
   */
  async ensureAdmin(input: { email: string; password: string; name: string }): Promise<'created' | 'exists'> {
    if (await this.users.hasActiveAdmin()) return 'exists';
    const passwordHash = await hashPassword(input.password);
    const first = await this.users.createFirstAdmin({ email: input.email, name: input.name, passwordHash });
    if (first) return 'created';
    // The first admin was made before but none is active now (disabled or withdrawn).
    try {
      await this.users.create({ email: input.email, name: input.name, passwordHash, role: 'admin' });
      return 'created';
    } catch (err) {
      const existing = await this.users.findByEmail(input.email);
      if (existing?.role === 'admin' && existing.status === 'active') return 'exists';
      if (existing) throw new ParleyError('CONFLICT', `ADMIN_EMAIL ${input.email} belongs to an account that is not an active admin; choose another ADMIN_EMAIL, or sign in as an admin and change that account`);
      throw err;
    }
  }

  async createByAdmin(input: { email: string; password: string; name: string; role: Role }): Promise<User> {
    if (input.role === 'customer') throw new ParleyError('INVALID_PAYLOAD', 'accounts are for agents and admins; customers use room tokens');
    return this.users.create({ email: input.email, name: input.name, passwordHash: await hashPassword(input.password), role: input.role });
  }

  /** `address`: the client's address (under TRUST_PROXY), for the sign-in throttle. */
  async signIn(email: string, password: string, address: string): Promise<SignInResult> {
    const attempt = await this.throttle.begin(email, address);
    const user = await this.users.findByEmail(email);
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash), password);
    if (!user || !ok) {
      await attempt.failed();
      throw new ParleyError('UNAUTHORIZED', 'wrong email or password');
    }
    await attempt.succeeded();
    if (user.status === 'pending') throw new ParleyError('FORBIDDEN', 'This account is waiting for an administrator to approve this account. You can sign in once it is approved.');
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
