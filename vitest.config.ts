import { defineConfig } from 'vitest/config';

// Network tests use real loopback sockets; two cores are all CI has, so files run in a
// small pool and every test has a hang guard (not a performance threshold).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    maxWorkers: 2,
  },
});
