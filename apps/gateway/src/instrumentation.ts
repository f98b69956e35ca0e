// Loaded with `node --import` before main.ts, so that http, express, pg and ioredis are patched
// before anything imports them.
import { startTracing } from '@flotilla/tracing';

startTracing({ serviceName: 'gateway', serviceVersion: process.env['SERVICE_VERSION'] });
