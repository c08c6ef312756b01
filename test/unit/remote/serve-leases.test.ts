import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ALICE, BOB, createSandbox, startTestServer } from './serve-harness.js';

describe('serve: leases and lifetimes', () => {
  it('removes an ephemeral sandbox nobody renews, keeps one renewed by keepalive or requests', async () => {
    const server = await startTestServer({ leaseSeconds: 1, sweepMs: 100 });
    const lapsing = await createSandbox(server, BOB);
    const kept = await createSandbox(server, BOB);
    const persistent = await createSandbox(server, BOB, { persistent: true });
    const end = Date.now() + 2500;
    while (Date.now() < end) {
      await server.call(`/v1/sandboxes/${kept}/keepalive`, { method: 'POST', token: BOB });
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(server.host.names().sort()).toEqual([kept, persistent].sort());
    expect(server.logs).toContainEqual(
      expect.objectContaining({ event: 'expired', sandbox: lapsing, reason: 'lease' }),
    );
    // An expired sandbox is gone from the API too.
    expect((await server.call(`/v1/sandboxes/${lapsing}`, { token: BOB })).status).toBe(404);
  });

  it('removes any sandbox, persistent or not, when its lifetime ends; capped by the token', async () => {
    const server = await startTestServer({ sweepMs: 100 });
    const persistent = await createSandbox(server, BOB, { persistent: true, lifetimeSeconds: 1 });
    await vi.waitFor(
      () => {
        expect(server.host.names()).toEqual([]);
        // Logged once removed.
        expect(server.logs).toContainEqual(
          expect.objectContaining({ event: 'expired', sandbox: persistent, reason: 'lifetime' }),
        );
      },
      { timeout: 4000 },
    );
    // Alice's token caps lifetimes at 3600 s whatever she asks.
    const before = Date.now();
    const capped = await createSandbox(server, ALICE, { persistent: true, lifetimeSeconds: 999_999 });
    const leases = JSON.parse(readFileSync(join(server.root, 'serve-leases.json'), 'utf8')) as {
      leases: { name: string; lifetimeEndsAt: number; owner: string }[];
    };
    const lease = leases.leases.find((l) => l.name === capped);
    expect(lease?.owner).toBe('alice');
    expect(lease!.lifetimeEndsAt - before).toBeGreaterThanOrEqual(3600_000);
    expect(lease!.lifetimeEndsAt - before).toBeLessThan(3601_000);
  });

  it('keeps its leases in an owner-only file, and a restarted server resumes the clocks', async () => {
    const server = await startTestServer({ leaseSeconds: 2, sweepMs: 100 });
    const name = await createSandbox(server, BOB);
    const file = join(server.root, 'serve-leases.json');
    expect(statSync(server.root).mode & 0o077).toBe(0);
    const lease = (JSON.parse(readFileSync(file, 'utf8')) as { leases: { leaseExpiresAt: number }[] })
      .leases[0];
    // The server goes away; the sandbox stays (a restart is no reason to lose it).
    await server.api.close();
    expect(server.host.names()).toEqual([name]);
    await server.restart({ leaseSeconds: 2, sweepMs: 100 });
    // The lease it had still counts, and the token still owns it.
    expect((await server.call(`/v1/sandboxes/${name}`, { token: BOB })).status).toBe(200);
    expect((await server.call(`/v1/sandboxes/${name}`, { token: ALICE })).status).toBe(404);
    await vi.waitFor(() => expect(server.host.names()).toEqual([]), { timeout: 5000 });
    expect(Date.now()).toBeGreaterThanOrEqual(lease!.leaseExpiresAt);
  });

  it('removes on restart what lapsed while it was down', async () => {
    const server = await startTestServer({ leaseSeconds: 1, sweepMs: 60_000 });
    await createSandbox(server, BOB);
    await server.api.close();
    await new Promise((r) => setTimeout(r, 1100));
    await server.restart({ leaseSeconds: 1, sweepMs: 60_000 });
    expect(server.host.names()).toEqual([]);
  });
});

describe('serve: quotas', () => {
  it('refuses a sandbox over maxSandboxes with 429 QUOTA_EXCEEDED naming the quota and the use', async () => {
    const server = await startTestServer();
    // Alice: maxSandboxes 3, maxMemoryMB 4096; three at once (the reservation stops a race past the quota).
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        server.call('/v1/sandboxes', {
          method: 'POST',
          token: ALICE,
          body: { image: 'local/base:1', memoryMB: 256 },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 201, 429, 429]);
    const refused = results.find((r) => r.status === 429)!;
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('QUOTA_EXCEEDED');
    expect(body.error.message).toMatch(/^Quota maxSandboxes of this token is 3; 3 in use/);
    // Bob has no quota; Alice's sandboxes do not count against him.
    expect(
      (await server.call('/v1/sandboxes', { method: 'POST', token: BOB, body: { image: 'local/base:1' } }))
        .status,
    ).toBe(201);
  });

  it('counts memory, a sandbox without memoryMB at its isolation default, and frees it on remove', async () => {
    const server = await startTestServer();
    const a = await createSandbox(server, ALICE); // counts 1024
    await createSandbox(server, ALICE, { memoryMB: 2048 });
    const over = await server.call('/v1/sandboxes', {
      method: 'POST',
      token: ALICE,
      body: { image: 'local/base:1', memoryMB: 2048 },
    });
    expect(over.status).toBe(429);
    expect(((await over.json()) as { error: { message: string } }).error.message).toMatch(
      /maxMemoryMB of this token is 4096; 3072 in use and 2048 more/,
    );
    await server.call(`/v1/sandboxes/${a}`, { method: 'DELETE', token: ALICE });
    expect(
      (
        await server.call('/v1/sandboxes', {
          method: 'POST',
          token: ALICE,
          body: { image: 'local/base:1', memoryMB: 2048 },
        })
      ).status,
    ).toBe(201);
  });
});
