import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MailboxWriter } from './mailbox-writer.ts';

describe('MailboxWriter', async () => {
  const root = await mkdtemp(join(tmpdir(), 'mailbox-writer-'));
  afterAll(() => rm(root, { recursive: true, force: true }));
  const fileIn = (dir: string, name: string, content = `content of ${name}`) => ({
    partial: join(dir, `.${name}.partial`),
    path: join(dir, name),
    content,
  });

  it('puts every file in place under its name, making the folder, and leaves no partial file', async () => {
    const writer = new MailboxWriter();
    const dir = join(root, 'mailbox');
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer.write(fileIn(dir, `${i}.eml`))));
    expect((await readdir(dir)).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `${i}.eml`).sort());
    expect(await readFile(join(dir, '7.eml'), 'utf8')).toBe('content of 7.eml');
    // Written again (a resend): the same name, the new content.
    await writer.write(fileIn(dir, '7.eml', 'again'));
    expect(await readFile(join(dir, '7.eml'), 'utf8')).toBe('again');
    await writer.close();
  });

  it('rejects only the file that could not be written', async () => {
    const writer = new MailboxWriter();
    const blocked = join(root, 'blocked');
    await writeFile(blocked, 'a file where a folder should be');
    const dir = join(root, 'fine');
    const [good, bad] = await Promise.allSettled([
      writer.write(fileIn(dir, 'a.eml')),
      writer.write(fileIn(join(blocked, 'sub'), 'b.eml')),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toMatchObject({ code: expect.stringMatching(/^E/) });
    // The writer goes on: the folder it failed to make is tried again on the next write.
    await writer.write(fileIn(dir, 'c.eml'));
    expect((await readdir(dir)).sort()).toEqual(['a.eml', 'c.eml']);
    await writer.close();
  });

  it('writes again after it was closed', async () => {
    const writer = new MailboxWriter();
    const dir = join(root, 'reopened');
    await writer.write(fileIn(dir, 'a.eml'));
    await writer.close();
    await writer.write(fileIn(dir, 'b.eml'));
    expect((await readdir(dir)).sort()).toEqual(['a.eml', 'b.eml']);
    await writer.close();
  });
});
