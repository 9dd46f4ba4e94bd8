import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.js';
import { notifierSettingsFrom, webhookHostsFrom } from '../../../core/webhook-config.js';
import { webhookProblem } from '../../../processors/lifecycle/limits.js';

describe('STACKL_WEBHOOK_ALLOWED_HOSTS', () => {
  it('defaults to loopback only', () => {
    expect(webhookHostsFrom({})).toEqual(['127.0.0.1', 'localhost', '::1']);
  });

  it('takes host names and IP literals, in any case, IPv6 with or without brackets', () => {
    expect(webhookHostsFrom({ STACKL_WEBHOOK_ALLOWED_HOSTS: ' Hooks.Example.COM, 10.0.0.7 ,[fd00::5]' })).toEqual(['hooks.example.com', '10.0.0.7', 'fd00::5']);
  });

  it.each(['', ' , ', '*.example.com', 'hooks.example.com:8443', 'http://hooks.example.com', 'a b'])('refuses %j, naming the setting', (value) => {
    expect(() => webhookHostsFrom({ STACKL_WEBHOOK_ALLOWED_HOSTS: value })).toThrow(ConfigError);
    expect(() => webhookHostsFrom({ STACKL_WEBHOOK_ALLOWED_HOSTS: value })).toThrow(/STACKL_WEBHOOK_ALLOWED_HOSTS/);
  });

  it('lets a target through only when its host is listed, whatever its port and path', () => {
    const limits = { webhookHosts: ['hooks.example.com', 'fd00::5'] };
    expect(webhookProblem('https://hooks.example.com:8443/a/b?c=d', limits)).toBeNull();
    expect(webhookProblem('https://HOOKS.example.com/x', limits)).toBeNull();
    expect(webhookProblem('http://[fd00::5]:9000/x', limits)).toBeNull();
    expect(webhookProblem('https://hooks.example.com.evil.test/x', limits)).toMatch(/not allowed/);
    expect(webhookProblem('https://evil.test/?hooks.example.com', limits)).toMatch(/not allowed/);
    expect(webhookProblem('http://127.0.0.1/x', limits)).toMatch(/not allowed/);
    expect(webhookProblem('file:///etc/passwd', limits)).toMatch(/not an http or https URL/);
  });
});

describe('notifier settings', () => {
  it('default to 6 tries, 1 s doubling up to 30 s, 10 s per try, 16 at once, unsigned', () => {
    expect(notifierSettingsFrom({})).toEqual({ secret: undefined, timeoutMs: 10_000, maxAttempts: 6, initialBackoffMs: 1_000, maxBackoffMs: 30_000, concurrency: 16, hosts: ['127.0.0.1', 'localhost', '::1'] });
  });

  it('refuse a secret too short to sign with, and take an empty one as none', () => {
    expect(() => notifierSettingsFrom({ STACKL_WEBHOOK_SECRET: 'short' })).toThrow(/at least 32 characters/);
    expect(notifierSettingsFrom({ STACKL_WEBHOOK_SECRET: '' }).secret).toBeUndefined();
  });

  it.each([
    ['STACKL_WEBHOOK_MAX_ATTEMPTS', '0'],
    ['STACKL_WEBHOOK_TIMEOUT_MS', 'soon'],
    ['STACKL_WEBHOOK_CONCURRENCY', '1.5'],
  ])('refuse %s=%s, naming it', (name, value) => {
    expect(() => notifierSettingsFrom({ [name]: value })).toThrow(new RegExp(name));
  });
});
