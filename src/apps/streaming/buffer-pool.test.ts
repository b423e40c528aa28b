import { describe, expect, it } from "vitest";
import { BufferPool } from "./buffer-pool.js";

describe("BufferPool", () => {
  it("hands out power-of-two classes and reuses returned buffers", () => {
    const p = new BufferPool(4 * 1024 * 1024);
    expect(p.classOf(1)).toBe(64 * 1024);
    expect(p.classOf(1024 * 1024)).toBe(1024 * 1024);
    expect(p.classOf(1024 * 1024 + 1)).toBe(2 * 1024 * 1024);
    expect(p.classOf(2 * 1024 * 1024 + 1)).toBeNull();
    const a = p.take(1000 * 1000);
    expect(a.length).toBe(1024 * 1024);
    p.give(a);
    expect(p.size).toBe(1024 * 1024);
    expect(p.take(700 * 1024)).toBe(a);
    expect(p.size).toBe(0);
  });
  it("keeps at most maxBytes and ignores foreign buffers", () => {
    const p = new BufferPool(2 * 1024 * 1024);
    const bufs = [p.take(1024 * 1024), p.take(1024 * 1024), p.take(1024 * 1024)];
    for (const b of bufs) p.give(b);
    expect(p.size).toBe(2 * 1024 * 1024);
    p.give(Buffer.alloc(1000));
    expect(p.size).toBe(2 * 1024 * 1024);
    expect(p.take(3 * 1024 * 1024).length).toBe(3 * 1024 * 1024);
  });
  it("makes room for the class in use by dropping idle buffers of other classes", () => {
    const p = new BufferPool(2 * 1024 * 1024);
    const small = [p.take(64 * 1024), p.take(64 * 1024)];
    for (const b of small) p.give(b);
    const big = p.take(2 * 1024 * 1024);
    p.give(big);
    expect(p.size).toBe(2 * 1024 * 1024);
    expect(p.take(2 * 1024 * 1024)).toBe(big);
  });
});
