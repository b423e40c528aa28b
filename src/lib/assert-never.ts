/**
 * The exhaustiveness check that ends every `switch` over a union: the compiler refuses the call
 * when a case is missing, and at run time a value from outside the union (a stale stored row, a
 * hand-written job payload) fails loudly instead of falling through.
 */
export function assertNever(x: never): never {
  throw new Error(`unexpected value ${String(x)}`);
}
