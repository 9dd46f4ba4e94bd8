import { describe, expect, it } from 'vitest';
import { checkExposure, isLoopbackHost } from '../../../api/exposure.js';
import { apiOptionsFromEnv } from '../../../api/options.js';

describe('safe by default: who may listen without keys', () => {
  it.each(['127.0.0.1', '127.8.9.10', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '[::]', '10.0.0.5', '192.168.1.2', 'api.example.com', 'localhost.example.com', '128.0.0.1', '::ffff:10.0.0.1'])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  it('refuses a non-loopback host without keys, in one line naming both ways out', () => {
    expect(() => checkExposure({ host: '0.0.0.0', apiKeys: null, insecure: false })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^STACKL_API_HOST=0\.0\.0\.0 is reachable from other machines .*set STACKL_API_KEYS, or STACKL_API_INSECURE=1[^\n]*$/) }),
    );
    expect(() => apiOptionsFromEnv({ STACKL_API_HOST: '::' })).toThrow(/STACKL_API_HOST=:: is reachable from other machines/);
  });

  it('lets it listen with keys, or when STACKL_API_INSECURE=1 says so', () => {
    expect(() => checkExposure({ host: '0.0.0.0', apiKeys: [{}], insecure: false })).not.toThrow();
    expect(apiOptionsFromEnv({ STACKL_API_HOST: '0.0.0.0', STACKL_API_INSECURE: '1' })).toMatchObject({ host: '0.0.0.0', apiKeys: null, insecure: true });
    expect(apiOptionsFromEnv({ STACKL_API_HOST: '127.0.0.1' })).toMatchObject({ insecure: false });
  });
});
