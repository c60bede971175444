import { PyBackupError } from '../errors.ts';
import { type Node, nodeNameBytes } from '../model/node.ts';

export class UnsafePathError extends PyBackupError {
  constructor(message: string) {
    super('UNSAFE_PATH', message);
  }
}

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

/** A node name from a (possibly hostile) tree: one path component, never empty, ".", "..", or containing "/" or NUL. */
export function safeNameBytes(n: Node): Buffer {
  const b = nodeNameBytes(n);
  if (b.length === 0 || b.length > 255 || b.equals(DOT) || b.equals(DOTDOT) || b.includes(0x2f) || b.includes(0)) {
    throw new UnsafePathError(`refusing unsafe name ${JSON.stringify(b.toString())} in snapshot`);
  }
  return b;
}
