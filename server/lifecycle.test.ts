import { describe, expect, it } from 'vitest';
import { createLifecycle, type Component } from './lifecycle.ts';

function recorder() {
  const events: string[] = [];
  const errors: string[] = [];
  const log = { info: () => {}, error: (obj: object) => errors.push((obj as { component: string }).component) };
  const component = (name: string, behaviour: Partial<Component> = {}): Component => ({
    name,
    start: () => void events.push(`start ${name}`),
    stop: () => void events.push(`stop ${name}`),
    ...behaviour,
  });
  return { events, errors, log, component };
}

describe('lifecycle', () => {
  it('stops in the reverse of the start order', async () => {
    const { events, log, component } = recorder();
    const lc = createLifecycle({ log });
    for (const name of ['db', 'redis', 'consumers', 'http']) await lc.start(component(name));
    expect(lc.running()).toEqual(['db', 'redis', 'consumers', 'http']);
    const report = await lc.stop();
    expect(events).toEqual([
      'start db',
      'start redis',
      'start consumers',
      'start http',
      'stop http',
      'stop consumers',
      'stop redis',
      'stop db',
    ]);
    expect(report.map((r) => [r.name, r.outcome])).toEqual([
      ['http', 'stopped'],
      ['consumers', 'stopped'],
      ['redis', 'stopped'],
      ['db', 'stopped'],
    ]);
    expect(lc.running()).toEqual([]);
  });

  it.each([
    ['throws', { stop: () => Promise.reject(new Error('boom')) }, 'failed'],
    ['hangs past its timeout', { stop: () => new Promise<void>(() => {}), stopTimeoutMs: 30 }, 'timed-out'],
  ] as const)('a stop that %s is reported and the components before it still stop', async (_, behaviour, outcome) => {
    const { events, errors, log, component } = recorder();
    const lc = createLifecycle({ log });
    await lc.start(component('db'));
    await lc.start(component('consumer', behaviour));
    await lc.start(component('http'));
    const report = await lc.stop();
    expect(report.map((r) => r.outcome)).toEqual(['stopped', outcome, 'stopped']);
    expect(events.slice(-2)).toEqual(['stop http', 'stop db']);
    expect(errors).toEqual(['consumer']);
  });

  it('does not stop a component whose start threw', async () => {
    const { events, log, component } = recorder();
    const lc = createLifecycle({ log });
    await lc.start(component('db'));
    await expect(lc.start(component('redis', { start: () => Promise.reject(new Error('no redis')) }))).rejects.toThrow('no redis');
    await lc.stop();
    expect(events).toEqual(['start db', 'stop db']);
  });

  it('stops once however often it is asked, and starts nothing afterwards', async () => {
    const { events, log, component } = recorder();
    const lc = createLifecycle({ log });
    await lc.start(component('db'));
    const [a, b] = [lc.stop(), lc.stop()];
    expect(a).toBe(b);
    await a;
    expect(events.filter((e) => e === 'stop db')).toHaveLength(1);
    await expect(lc.start(component('late'))).rejects.toThrow(/after the lifecycle began to stop/);
    expect(events).not.toContain('start late');
  });

  it('stops a component whose start was still running when the stop began', async () => {
    const { events, log, component } = recorder();
    const lc = createLifecycle({ log });
    let finishStart!: () => void;
    const starting = lc.start(
      component('slow', {
        start: () =>
          new Promise<void>((resolve) => {
            finishStart = () => {
              events.push('start slow');
              resolve();
            };
          }),
      }),
    );
    const stopping = lc.stop();
    finishStart();
    await expect(starting).rejects.toThrow(/after the lifecycle began to stop/);
    await stopping;
    expect(events).toEqual(['start slow', 'stop slow']);
  });
});
