// kafkajs reads a bootstrap address as `host:port` by splitting at the first colon,
// so `[::1]:9092` would become host "[" and port NaN. A bracketed IPv6 address is handed
// to kafkajs as a stand-in name (colons written as dashes, under a suffix no resolver
// knows), and our socket factory turns the stand-in back into the address when it
// connects. Brokers found through metadata arrive as plain hosts and pass through.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ISocketFactory } from 'kafkajs';
import { parseBrokerAddress } from '../core/kafka-settings.js';

const SUFFIX = '.ipv6-literal.invalid';
// kafkajs' own socket factory keeps idle connections alive with the same delay.
const KEEP_ALIVE_DELAY_MS = 60_000;

/** The address as kafkajs can read it: unchanged, except IPv6 in brackets. */
export function kafkajsBroker(broker: string): string {
  const { host, port } = parseBrokerAddress(broker);
  return broker.startsWith('[') ? `${host.replaceAll(':', '-')}${SUFFIX}:${port}` : broker;
}

export function needsOwnSocketFactory(brokers: string[]): boolean {
  return brokers.some((b) => b.startsWith('['));
}

/** The host to dial for a host kafkajs gives us. */
export function realHost(host: string): string {
  return host.endsWith(SUFFIX) ? host.slice(0, -SUFFIX.length).replaceAll('-', ':') : host;
}

/** kafkajs' socket factory, plus the stand-in names: TLS sends a server name only for names, never for IPs. */
export const socketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const target = realHost(host);
  const socket: Socket = ssl
    ? tlsConnect({ host: target, port, ...(isIP(target) === 0 ? { servername: target } : {}), ...ssl }, onConnect)
    : netConnect({ host: target, port }, onConnect);
  socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
  return socket;
};
