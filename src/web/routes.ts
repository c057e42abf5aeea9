import { Hono } from 'hono';
import type { AppDeps } from '../http/deps.js';
import type { HonoEnv } from '../http/env.js';
import { consoleRoutes } from './console/routes.js';
import { loginRoutes } from './login-routes.js';
import { noodtoegangPages } from './pages/noodtoegang-routes.js';
import { rolePages } from './pages/routes.js';

/**
 * The web application, mounted by createApp at `/`: logging in and out (src/web/login-routes.tsx), the privacy
 * officer's console under `/beheer` (src/web/console/routes.tsx) and the role pages (src/web/pages/routes.tsx), each behind `requireSession` and, for their forms, `requireCsrf` (src/web/session.ts). Middleware
 * is attached per route, never with a bare `use()`: this router shares `/` with the API.
 */
export function webRoutes(deps: AppDeps): Hono<HonoEnv> {
  return new Hono<HonoEnv>().route('/', loginRoutes(deps)).route('/beheer', consoleRoutes(deps)).route('/', noodtoegangPages(deps)).route('/', rolePages(deps));
}
