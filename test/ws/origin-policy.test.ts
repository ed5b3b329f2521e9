import { describe, expect, it } from 'vitest';
import { originProblem, ANY_ORIGIN } from '../../src/ws/origin-policy.js';

describe('originProblem', () => {
  it('accepts a client that sends no Origin (the CLI, scripts: no page to protect)', () => {
    expect(originProblem(undefined, '127.0.0.1:8000', [])).toBeUndefined();
  });

  it('accepts the page the server served, whichever name the browser used for it', () => {
    expect(originProblem('http://127.0.0.1:8000', '127.0.0.1:8000', [])).toBeUndefined();
    expect(originProblem('http://localhost:8000', 'localhost:8000', [])).toBeUndefined();
    expect(originProblem('http://[::1]:8000', '[::1]:8000', [])).toBeUndefined();
    expect(originProblem('http://192.168.1.20', '192.168.1.20:80', [])).toBeUndefined();
  });

  it('does not take a Host that is a name for the page’s own: DNS rebinding sends a matching pair', () => {
    expect(originProblem('http://evil.example:8000', 'evil.example:8000', [])).toBe('Origin http://evil.example:8000 is not allowed');
    expect(originProblem('http://laptop.local:8000', 'laptop.local:8000', ['http://laptop.local:8000'])).toBeUndefined();
  });

  it('does not take an https page for the http page this server serves', () => {
    expect(originProblem('https://127.0.0.1:8000', '127.0.0.1:8000', [])).toBeDefined();
  });

  it('refuses any other origin, naming it', () => {
    expect(originProblem('http://evil.example', '127.0.0.1:8000', [])).toBe('Origin http://evil.example is not allowed');
    expect(originProblem('http://127.0.0.1:9000', '127.0.0.1:8000', [])).toBeDefined();
    expect(originProblem('null', '127.0.0.1:8000', [])).toBeDefined(); // a file:// page
    expect(originProblem('http://127.0.0.1:8000', undefined, [])).toBeDefined();
  });

  it('accepts the origins --allow-origin names, and every origin with *', () => {
    expect(originProblem('http://localhost:3000', '127.0.0.1:8000', ['http://localhost:3000'])).toBeUndefined();
    expect(originProblem('http://evil.example', '127.0.0.1:8000', [ANY_ORIGIN])).toBeUndefined();
  });
});
