/**
 * The JWTs Parley signs (HS256, jose):
 *  - access tokens for agents and admins: `{ sub, role, name, sid, typ: 'access' }`
 *  - room tokens from POST /token (seed 004), shaped like LiveKit/OpenVidu grants so existing
 *    clients can read them: `{ sub: participantName, name, video: { room, roomJoin: true }, typ: 'room' }`
 *  - customer tokens, minted only when a consultation starts: `{ sub: 'customer-<id>', cid: <consultation id>, typ: 'customer' }`;
 *    the only credential that acts as that consultation's customer (room tokens never do)
 *  - entry tokens in QR codes: `{ sub: entryPointId, typ: 'entry' }` — they only open the
 *    landing page and start a consultation; they are not credentials for sockets or REST.
 */
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { ParleyError } from '../errors.js';

const accessClaims = z.object({
  typ: z.literal('access'),
  sub: z.string(),
  role: z.enum(['agent', 'admin', 'customer']),
  name: z.string().optional(),
  sid: z.string(),
});
const roomClaims = z.object({
  typ: z.literal('room'),
  sub: z.string(),
  name: z.string().optional(),
  video: z.object({ room: z.string(), roomJoin: z.boolean() }),
});
const customerClaims = z.object({
  typ: z.literal('customer'),
  sub: z.string(),
  cid: z.string(),
  name: z.string().optional(),
});
const entryClaims = z.object({ typ: z.literal('entry'), sub: z.string(), exp: z.number() });
const anyClaims = z.discriminatedUnion('typ', [accessClaims, roomClaims, customerClaims]);

export type AccessClaims = z.infer<typeof accessClaims>;
export type RoomClaims = z.infer<typeof roomClaims>;
export type CustomerClaims = z.infer<typeof customerClaims>;

/** The `iss` of every token Parley signs itself. */
export const PARLEY_ISSUER = 'parley';
const ISSUER = PARLEY_ISSUER;
export type ParleyClaims = z.infer<typeof anyClaims>;

export class TokenService {
  private readonly key: Uint8Array;
  constructor(
    secret: string,
    private readonly accessTtlSeconds: number,
    private readonly roomTtlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async issueAccessToken(input: { userId: string; role: AccessClaims['role']; name?: string; sessionId: string }): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + this.accessTtlSeconds * 1000);
    const token = await new SignJWT({ typ: 'access', role: input.role, name: input.name, sid: input.sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(input.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.key);
    return { token, expiresAt };
  }

  async issueRoomToken(input: { room: string; participant: string; name?: string; ttlSeconds?: number }): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + (input.ttlSeconds ?? this.roomTtlSeconds) * 1000);
    const token = await new SignJWT({ typ: 'room', name: input.name ?? input.participant, video: { room: input.room, roomJoin: true } })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(input.participant)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.key);
    return { token, expiresAt };
  }

  /** The credential of one consultation's customer (POST /api/v1/consultations is the only caller). */
  async issueCustomerToken(input: { consultationId: string; name: string; ttlSeconds: number }): Promise<{ token: string; userId: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + input.ttlSeconds * 1000);
    const userId = `customer-${input.consultationId}`;
    const token = await new SignJWT({ typ: 'customer', cid: input.consultationId, name: input.name })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.key);
    return { token, userId, expiresAt };
  }

  /**
   * The signed link of a QR code: valid until the entry point expires. Issued "at" the entry
   * point's creation, so the same entry point always yields the same link (the page, the PNG
   * and the SVG show one link, and a poster printed yesterday matches the one shown today).
   */
  async issueEntryToken(entryPointId: string, expiresAt: Date, issuedAt: Date = new Date()): Promise<string> {
    return new SignJWT({ typ: 'entry' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(entryPointId)
      .setIssuer(ISSUER)
      .setIssuedAt(Math.floor(issuedAt.getTime() / 1000))
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.key);
  }

  /** The entry point id of a QR link; UNAUTHORIZED when the link is forged or expired. */
  async verifyEntryToken(token: string): Promise<{ entryPointId: string; expiresAt: Date }> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
      const claims = entryClaims.safeParse(payload);
      if (!claims.success) throw new ParleyError('UNAUTHORIZED', 'this link is not a consultation entry link');
      return { entryPointId: claims.data.sub, expiresAt: new Date(claims.data.exp * 1000) };
    } catch (err) {
      if (err instanceof ParleyError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new ParleyError('UNAUTHORIZED', 'this QR code has expired; ask for a new one');
      throw new ParleyError('UNAUTHORIZED', 'this QR link is not valid; scan the code again or ask for a new one');
    }
  }

  /** Verifies signature, issuer and expiry; throws UNAUTHORIZED with the reason. */
  async verify(token: string): Promise<ParleyClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
      const claims = anyClaims.safeParse(payload);
      if (!claims.success) throw new ParleyError('UNAUTHORIZED', 'token is not a Parley access, room or customer token');
      return claims.data;
    } catch (err) {
      if (err instanceof ParleyError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new ParleyError('UNAUTHORIZED', 'token expired; sign in again or request a new room token');
      throw new ParleyError('UNAUTHORIZED', 'invalid token');
    }
  }
}
