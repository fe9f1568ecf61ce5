import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PlatformClient } from './platform-client.ts';

describe('PlatformClient against a platform still starting', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('repeats a request the platform answered 503 (nothing done) after its Retry-After, and returns the answer that follows', async () => {
    const seen: string[] = [];
    server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url}`);
      if (seen.length < 3) {
        response.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '0' });
        response.end(JSON.stringify({ status: 503, title: 'the platform is starting' }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ now: '2026-01-01T00:00:00.000Z' }));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const client = new PlatformClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'token');

    const answer = await client.request('GET', '/admin/clock');
    expect(answer.status).toBe(200);
    expect(seen).toEqual(['GET /admin/clock', 'GET /admin/clock', 'GET /admin/clock']);
  });
});
