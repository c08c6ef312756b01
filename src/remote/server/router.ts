import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../../internal/errors.js';
import type { TokenEntry } from './auth.js';
import { MethodNotAllowedError, RouteNotFoundError } from './errors.js';

/** What a route handler gets: the request, its parsed URL, path parameters and the caller's token. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** Absent only on routes without auth (health). */
  token: TokenEntry;
  /** Aborts when the client goes away before the answer is sent: work for nobody stops. */
  signal: AbortSignal;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The path as the log and the OpenAPI document name it: `/v1/sandboxes/{name}`. */
  template: string;
  auth: boolean;
  /** Handles the request; resolves with the status it answered. */
  handle(ctx: RouteContext): Promise<number>;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

export class Router {
  readonly #routes: CompiledRoute[];

  constructor(routes: Route[]) {
    this.#routes = routes.map((route) => {
      const names: string[] = [];
      const source = route.template.replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { ...route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  /**
   * The route for a method and path, with its decoded parameters.
   *
   * @throws RouteNotFoundError, MethodNotAllowedError
   */
  match(method: string, pathname: string): { route: Route; params: Record<string, string> } {
    const allowed: string[] = [];
    for (const route of this.#routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = decodeParam(name, m[i + 1] as string);
      });
      return { route, params };
    }
    if (allowed.length > 0) throw new MethodNotAllowedError(method, allowed);
    throw new RouteNotFoundError(pathname);
  }

  /** The template a path matches, for the log line of a request that failed before a route ran. */
  templateOf(pathname: string): string | undefined {
    return this.#routes.find((r) => r.pattern.test(pathname))?.template;
  }
}

function decodeParam(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidArgumentError(name, 'a URL-encoded (UTF-8) path segment', raw);
  }
}
