/**
 * The program's entry (bin/pybackup runs this file): starts the repository's key derivation, when it can be foreseen,
 * and only then loads the CLI, so the two overlap (app/early-unlock.ts). Keep this file's imports tiny.
 */
import { startEarlyUnlock } from '../app/early-unlock.ts';

startEarlyUnlock(process.argv.slice(2), process.env);
const { runCli } = await import('./main.ts');
runCli();
