import type { Command } from 'commander';
import { resolveNewPassword } from '../../app/password.ts';
import { UsageError } from '../../errors.ts';
import { type KeyInfo, type NewKeyOptions, addKey, changePassword, kdfSummary, listKeys, removeKey } from '../../repository/keys.ts';
import { type Context, withRepository } from '../context.ts';
import { promptHidden } from '../prompt.ts';
import { table } from '../render/output.ts';

interface NewKeyFlags {
  newPasswordFile?: string;
  newPasswordCommand?: string;
  user?: string;
  host?: string;
  kdfMemory?: string;
}

export function registerKey(program: Command, ctx: () => Context): void {
  const key = program.command('key').description('manage the passwords (key files) that open the repository');

  key
    .command('list')
    .description('list key files (* = the one this password opened)')
    .action(async () => {
      const c = ctx();
      await withRepository(c, { lock: 'shared' }, async (repo) => {
        const keys = await listKeys(repo, { signal: c.signal });
        if (c.out.json) {
          c.out.data(JSON.stringify(keys.map(keyJson)));
          return;
        }
        const rows = keys.map((k) => [
          `${k.current ? '*' : ' '}${k.id.slice(0, 8)}`,
          k.file ? str(k.file.username) : '',
          k.file ? str(k.file.hostname) : '',
          k.file ? localTime(str(k.file.created)) : `(damaged: ${k.error ?? 'unreadable'})`,
        ]);
        c.out.data(table([' ID', 'User', 'Host', 'Created'], rows));
        const damaged = keys.filter((k) => !k.file).length;
        c.out.data(`${keys.length} ${keys.length === 1 ? 'key' : 'keys'}${damaged ? `, ${damaged} damaged` : ''}`);
      });
    });

  newKeyOptions(key.command('add').description('add a key file for a new password')).action(async (f: NewKeyFlags) => {
    const c = ctx();
    const o = newKeyOptionsFrom(f, c.signal);
    const early = await newPasswordUnlessPrompt(f);
    await withRepository(c, { lock: 'exclusive' }, async (repo) => {
      const id = await addKey(repo, early ?? (await newPassword(f)), o);
      if (c.out.json) c.out.line({ message_type: 'key_added', id });
      else c.out.info(`saved new key as ${id.slice(0, 8)}`);
    });
  });

  key
    .command('remove')
    .description('remove a key file (not the last one; not the one in use without --force)')
    .argument('<ID>', 'key ID or a unique prefix of one')
    .option('--force', 'also remove the key this password opened (another key must remain)')
    .action(async (ref: string, f: { force?: boolean }) => {
      const c = ctx();
      await withRepository(c, { lock: 'exclusive' }, async (repo) => {
        const id = await removeKey(repo, ref, { force: !!f.force, signal: c.signal });
        if (c.out.json) c.out.line({ message_type: 'key_removed', id });
        else c.out.info(`removed key ${id.slice(0, 8)}`);
      });
    });

  newKeyOptions(key.command('passwd').description('change the password: add a key for the new password, then remove the key in use')).action(
    async (f: NewKeyFlags) => {
      const c = ctx();
      const o = newKeyOptionsFrom(f, c.signal);
      const early = await newPasswordUnlessPrompt(f);
      await withRepository(c, { lock: 'exclusive' }, async (repo) => {
        const { added, removed } = await changePassword(repo, early ?? (await newPassword(f)), o);
        if (c.out.json) c.out.line({ message_type: 'password_changed', id: added, removed });
        else c.out.info(`saved new key as ${added.slice(0, 8)}, removed old key ${removed.slice(0, 8)}`);
      });
    },
  );
}

function newKeyOptions(cmd: Command): Command {
  return cmd
    .option('--new-password-file <file>', 'read the new password from a file (default: $PYBACKUP_NEW_PASSWORD, else ask)')
    .option('--new-password-command <command>', 'run a shell command that prints the new password')
    .option('--user <name>', 'username recorded in the new key (default: the current user)')
    .option('--host <name>', 'hostname recorded in the new key (default: this host)')
    .option('--kdf-memory <KiB>', 'Argon2id memory of the new key in KiB (default 65536)');
}

/** Validates the flags before the repository is opened, so a typo costs no key derivation. */
function newKeyOptionsFrom(f: NewKeyFlags, signal: AbortSignal): NewKeyOptions {
  let memory: number | undefined;
  if (f.kdfMemory !== undefined) {
    memory = Number(f.kdfMemory);
    if (!/^\d+$/.test(f.kdfMemory.trim()) || !Number.isInteger(memory) || memory < 8192 || memory > 4 * 1024 * 1024) {
      throw new UsageError('--kdf-memory must be a whole number of KiB from 8192 to 4194304');
    }
  }
  if (f.newPasswordFile !== undefined && f.newPasswordCommand !== undefined) throw new UsageError('--new-password-file and --new-password-command are mutually exclusive');
  return {
    signal,
    ...(memory !== undefined ? { kdf: { memory } } : {}),
    ...(f.user !== undefined ? { username: f.user } : {}),
    ...(f.host !== undefined ? { hostname: f.host } : {}),
  };
}

const onTerminal = (): boolean => !!process.stdin.isTTY && !!process.stderr.isTTY;

/**
 * The new password when it comes from a flag or the environment (or the error when there is no source at all),
 * before the repository is opened; undefined when it must be asked for, which happens after the current password.
 */
async function newPasswordUnlessPrompt(f: NewKeyFlags): Promise<string | undefined> {
  const given = f.newPasswordFile !== undefined || f.newPasswordCommand !== undefined || process.env.PYBACKUP_NEW_PASSWORD !== undefined;
  return given || !onTerminal() ? await newPassword(f) : undefined;
}

async function newPassword(f: NewKeyFlags): Promise<string> {
  return await resolveNewPassword({
    passwordFile: f.newPasswordFile,
    passwordCommand: f.newPasswordCommand,
    prompt: onTerminal() ? promptHidden : undefined,
  });
}

function keyJson(k: KeyInfo): Record<string, unknown> {
  if (!k.file) return { id: k.id, current: k.current, damaged: true, error: k.error ?? 'unreadable' };
  return {
    id: k.id,
    current: k.current,
    damaged: false,
    username: str(k.file.username),
    hostname: str(k.file.hostname),
    created: str(k.file.created),
    kdf: kdfSummary(k.file),
  };
}

/** Key files are untrusted plaintext: show only strings, without control characters. */
function str(v: unknown): string {
  return typeof v === 'string' ? v.replace(/\p{Cc}/gu, '?') : '';
}

function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
