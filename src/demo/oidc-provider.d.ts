/**
 * The part of oidc-provider v9 (panva) that the demo identity provider uses. The package ships no types of its own
 * (DefinitelyTyped's lag behind v9), so they are declared here, narrowly: what is not declared is not used.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** Koa's request context, as far as the demo provider's middleware and helpers read and write it. */
  export interface KoaContextWithOIDC {
    method: string;
    path: string;
    status: number;
    body: unknown;
    type: string;
    host: string;
    req: IncomingMessage;
    res: ServerResponse;
    state: Record<string, unknown>;
    set(name: string, value: string): void;
    get(name: string): string;
    redirect(url: string): void;
    oidc: {
      client?: { clientId: string } | undefined;
      session: { accountId?: string | undefined; grantIdFor(clientId: string): string | undefined };
      result?: { consent?: { grantId?: string } } | undefined;
      provider: Provider;
    };
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string };
    params: Record<string, unknown>;
  }

  export interface InteractionResults {
    login?: { accountId: string; remember?: boolean };
    error?: string;
    error_description?: string;
  }

  export interface Grant {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  export type Configuration = Record<string, unknown>;

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    /** Koa's `app.silent`: errors are not printed by Koa itself. */
    silent: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>): void;
    on(event: string, listener: (...args: unknown[]) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionResult(req: IncomingMessage, res: ServerResponse, result: InteractionResults, options?: { mergeWithLastSubmission?: boolean }): Promise<string>;
    Grant: {
      new (properties: { accountId: string; clientId: string }): Grant;
      find(id: string): Promise<Grant | undefined>;
    };
  }

  export const errors: {
    SessionNotFound: new (...args: unknown[]) => Error;
  };
}

declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  /** oidc-provider's own in-memory adapter, one store per provider (what its default is, without the warning). */
  export function createMemoryAdapter(clockTolerance?: number): (model: string) => unknown;
}
