/**
 * One running meshdav node: opens the services, listens, and shuts down cleanly (no new
 * connections, in-flight requests finished or cut after a grace period, LevelDB closed).
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { ConfigError, type Config } from './config.js';
import { createLogger, type Logger } from './log.js';
import { openServices, type Services } from './services.js';
import { buildApp } from './app.js';
import { closeStalledClients } from './http/stalled-clients.js';
import { localUrl, removeNodeFile, writeNodeFile } from './auth/node-file.js';

export interface MeshdavNode {
  config: Config;
  services: Services;
  server: http.Server;
  /** The URL this node listens on (publicUrl when configured, else the bound address). */
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
}

export async function startNode(config: Config, options: StartOptions = {}): Promise<MeshdavNode> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const server = config.tls
    ? tlsServer(config.tls)
    : http.createServer();
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0; // large uploads and downloads may take long; stalled ones are closed:
  const stalls = closeStalledClients(server, config.limits.clientStallMs, log);
  // The port must be bound before the services open (publicUrl may follow it), so requests that
  // arrive in between wait for the app; if start-up fails they get a 503 instead of hanging.
  let handler: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;
  const waiting: Array<() => void> = [];
  server.on('request', (req, res) => {
    if (handler) return handler(req, res);
    waiting.push(() => (handler ? handler(req, res) : res.writeHead(503, { 'retry-after': '1' }).end()));
  });
  const release = () => waiting.splice(0).forEach((run) => run());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  if (!config.publicUrlExplicit) {
    const scheme = config.tls ? 'https' : 'http';
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    config = { ...config, port, publicUrl: `${scheme}://${host}:${port}` };
  } else {
    config = { ...config, port };
  }
  let services: Services;
  try {
    services = await openServices(config, log);
  } catch (err) {
    release();
    server.close();
    throw err;
  }
  services.metrics.stalledClients(stalls);
  handler = buildApp(services).callback();
  release();
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  // dataDir/node.json tells local tools (meshdav user …) where this node answers.
  writeNodeFile(config.dataDir, { url: localUrl(config.host, port, Boolean(config.tls)), pid: process.pid });

  let closing: Promise<void> | undefined;
  return {
    config,
    services,
    server,
    url: config.publicUrl,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => server.closeAllConnections(), 5_000);
          server.close(() => {
            clearTimeout(timer);
            resolve();
          });
          server.closeIdleConnections();
        });
        await services.close();
        removeNodeFile(config.dataDir);
      })();
      return closing;
    },
  };
}

/** The https server for config.tls; an unreadable or invalid certificate or key is a ConfigError. */
function tlsServer(tls: NonNullable<Config['tls']>): https.Server {
  const cert = readTlsFile('tls.cert', tls.cert);
  const key = readTlsFile('tls.key', tls.key);
  try {
    return https.createServer({ cert, key });
  } catch (err) {
    throw new ConfigError(`invalid configuration — tls: the certificate and key are not a valid PEM pair (${(err as Error).message})`);
  }
}

/** A PEM file named by the configuration; unreadable → ConfigError naming the key, the path and the reason. */
function readTlsFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`invalid configuration — ${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}
