/**
 * The physical-limit baseline of the fan-out benchmark: a plain UDP forwarder. No ICE, no
 * DTLS/SRTP, no RTP parsing or rewriting: one Node dgram socket on 127.0.0.1 that sends each
 * datagram it receives, unchanged, to every receiver port it was given. This is what fan-out
 * costs in Node on this machine when nothing but the sending is done.
 *
 * Started by bench/sfu-fanout.ts with an IPC channel (plain JavaScript-compatible TypeScript).
 */
import { createSocket } from 'node:dgram';
import type { FromForwarder, ToForwarder } from './protocol.js';

const send = (m: FromForwarder): void => {
  process.send?.(m);
};

const socket = createSocket('udp4');
let ports: number[] = [];

socket.on('message', (msg) => {
  for (let i = 0; i < ports.length; i++) socket.send(msg, ports[i]!, '127.0.0.1');
});
socket.on('error', (err) => {
  process.stderr.write(`udp forwarder: ${err.message}\n`);
});

process.on('message', (m: ToForwarder) => {
  if (m.type === 'set-receivers') {
    ports = m.ports;
    send({ type: 'receivers-set', count: ports.length });
  } else if (m.type === 'close') {
    socket.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

socket.bind(0, '127.0.0.1', () => {
  send({ type: 'ready', port: socket.address().port, pid: process.pid });
});
