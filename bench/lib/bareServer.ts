/**
 * The baseline: a minimal Socket.IO server speaking the same seed-002 relay events as
 * Parley's default namespace, with no validation, auth, rate limit, metrics or logging.
 * It is what "just relay it" costs with Socket.IO 4 on this machine.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

export interface BareServer {
  url: string;
  relayed(): number;
  close(): Promise<void>;
}

interface Relay {
  to: string;
  [k: string]: unknown;
}

export async function startBareServer(): Promise<BareServer> {
  const httpServer = createServer();
  const io = new Server(httpServer, { serveClient: false });
  let relayed = 0;

  io.on('connection', (socket) => {
    socket.on('video:join-room', async (data: { roomId: string; studyId?: string }) => {
      const key = `video:${data.roomId}`;
      const others = [...(io.of('/').adapter.rooms.get(key) ?? [])].filter((id) => id !== socket.id);
      await socket.join(key);
      socket.emit('video:room-state', { participants: others.map((socketId) => ({ socketId })) });
      socket.to(key).emit('video:user-joined', { socketId: socket.id, userId: socket.id, user: { id: socket.id } });
    });
    socket.on('video:offer', (data: Relay) => {
      relayed++;
      socket.to(data.to).emit('video:offer', { from: socket.id, offer: data.offer });
    });
    socket.on('video:answer', (data: Relay) => {
      relayed++;
      socket.to(data.to).emit('video:answer', { from: socket.id, answer: data.answer });
    });
    socket.on('video:ice-candidate', (data: Relay) => {
      relayed++;
      socket.to(data.to).emit('video:ice-candidate', { from: socket.id, candidate: data.candidate });
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    relayed: () => relayed,
    close: async () => {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}
