// A certified third-party OpenID provider (panva's `oidc-provider`) on loopback,
// configured like a ZITADEL instance as far as a native public client can tell,
// for the integration tests of the SDK.
//
// Usage: node server.mjs [--port N] [--key-file PATH] [--access-token-ttl SECONDS]
//                        [--request-log PATH] [--exit-with-stdin]
// Every option may also be given as an environment variable:
// PROVIDER_PORT, PROVIDER_KEY_FILE, PROVIDER_ACCESS_TOKEN_TTL, PROVIDER_REQUEST_LOG.
//
// Once listening, prints exactly one JSON line on stdout:
//   {"issuer":"http://127.0.0.1:PORT","port":PORT,"kid":"..."}
// and from then on logs to stderr only. With --exit-with-stdin it exits when its
// stdin closes, so that it never outlives the test process that started it.

import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

// Everything but the one ready line goes to stderr.
console.log = console.error;
console.info = console.error;
console.warn = console.error;

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'key-file': { type: 'string' },
    'access-token-ttl': { type: 'string' },
    'request-log': { type: 'string' },
    'exit-with-stdin': { type: 'boolean' },
  },
  strict: true,
});

const port = Number(args.port ?? process.env.PROVIDER_PORT ?? 0);
const keyFile = args['key-file'] ?? process.env.PROVIDER_KEY_FILE;
const accessTokenTtl = Number(args['access-token-ttl'] ?? process.env.PROVIDER_ACCESS_TOKEN_TTL ?? 3600);
const requestLog = args['request-log'] ?? process.env.PROVIDER_REQUEST_LOG;

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new Error(`invalid --port ${args.port}`);
}
if (!Number.isInteger(accessTokenTtl) || accessTokenTtl <= 0) {
  throw new Error(`invalid --access-token-ttl ${args['access-token-ttl']}`);
}

/** A fresh RS256 signing key as a private JWK with a random kid. */
function generateSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    ...privateKey.export({ format: 'jwk' }),
    kid: randomBytes(12).toString('base64url'),
    alg: 'RS256',
    use: 'sig',
  };
}

/** The signing key: read from --key-file, or generated (and written there if given). */
function loadSigningKey() {
  if (keyFile && existsSync(keyFile)) {
    return JSON.parse(readFileSync(keyFile, 'utf8'));
  }
  const key = generateSigningKey();
  if (keyFile) {
    writeFileSync(keyFile, `${JSON.stringify(key)}\n`, { mode: 0o600 });
  }
  return key;
}

const signingKey = loadSigningKey();

// Listen first, so that port 0 resolves to the real port before the issuer is fixed.
const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const actualPort = server.address().port;
const issuer = `http://127.0.0.1:${actualPort}`;

/** Made-up but stable profile claims for any login name: sub = login name. */
function claimsFor(sub) {
  return {
    sub,
    name: `Test User ${sub}`,
    email: `${sub}@example.com`,
    email_verified: true,
    preferred_username: sub,
  };
}

const configuration = {
  clients: [
    {
      client_id: 'native-app',
      client_name: 'Native test app',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: [
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
      ],
      response_types: ['code'],
      // For a native client, oidc-provider (v9) already matches loopback
      // http redirect URIs on any port (RFC 8252 section 7.3), both for
      // redirect_uri and post_logout_redirect_uri: http://127.0.0.1:PORT/callback
      // is accepted. No redirectUriAllowed override is needed.
      redirect_uris: ['http://127.0.0.1/callback', 'com.example.app:/callback'],
      post_logout_redirect_uris: ['http://127.0.0.1/callback', 'com.example.app:/callback'],
    },
  ],
  jwks: { keys: [signingKey] },
  responseTypes: ['code'],
  // Unknown scopes (such as urn:zitadel:iam:org:project:id:zitadel:aud) are not
  // rejected by oidc-provider: they are accepted in the request and silently left
  // out of the granted scope. Only scopes listed here can be granted.
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return claimsFor(sub);
      },
    };
  },
  // PKCE (S256 is the only method oidc-provider v9 supports) for every client.
  pkce: { required: () => true },
  features: {
    // The built-in login (any login name and password) and consent pages.
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    introspection: { enabled: true },
  },
  // Refresh tokens are issued when offline_access was granted (oidc-provider's
  // default; note that it drops offline_access from a request that carries a
  // prompt parameter without "consent"). Native clients always see the consent
  // page, so no extra prompt is needed. Rotated on every use.
  rotateRefreshToken: () => true,
  ttl: {
    AccessToken: () => accessTokenTtl,
  },
  cookies: {
    keys: [randomBytes(32).toString('base64url')],
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

// oidc-provider follows OpenID Connect Core 1.0 section 11 to the letter: it
// drops offline_access from an authorization request unless prompt contains
// "consent". ZITADEL issues a refresh token for offline_access alone, and a
// native client sees the consent page every time anyway (oidc-provider's
// native_client_prompt check), so for GET /auth requests that ask for
// offline_access, "consent" is added to prompt here (unless prompt=none, which
// must stay alone). Nothing else about the request changes. (Pushed and POSTed
// authorization requests are not rewritten: send prompt=consent with those.)
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/auth') {
    const params = new URLSearchParams(ctx.querystring);
    const scopes = (params.get('scope') ?? '').split(' ');
    const prompts = (params.get('prompt') ?? '').split(' ').filter(Boolean);
    if (scopes.includes('offline_access') && !prompts.includes('consent') && !prompts.includes('none')) {
      params.set('prompt', [...prompts, 'consent'].join(' '));
      ctx.querystring = params.toString();
    }
  }
  await next();
});
const callback = provider.callback();

server.on('request', (req, res) => {
  if (requestLog) {
    // Append the log line synchronously just before the response is finished,
    // so that a client that has read the whole response also finds its line.
    const path = (req.url ?? '').split('?')[0];
    const end = res.end;
    let logged = false;
    res.end = function endAndLog(...endArgs) {
      if (!logged) {
        logged = true;
        try {
          appendFileSync(
            requestLog,
            `${JSON.stringify({ method: req.method, path, status: res.statusCode })}\n`,
          );
        } catch (err) {
          console.error('could not append to the request log', err);
        }
      }
      return end.apply(this, endArgs);
    };
  }
  callback(req, res);
});

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (args['exit-with-stdin']) {
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.resume();
}

process.stdout.write(`${JSON.stringify({ issuer, port: actualPort, kid: signingKey.kid })}\n`);
