// A real OpenID provider (the npm package oidc-provider, pinned here in tests/npm, which is why
// this file lives beside it) for the tests of the HTTP face's `[listen.oauth]`: it issues JWT
// access tokens (RFC 9068) for any resource, by the client-credentials grant to the client
// `tester` (secret `tester-secret`), and by the authorization-code grant (PKCE) to clients
// that register themselves (RFC 7591), such as `mcpgw proxy`. Nobody is asked anything: the
// login is `ana`'s and every consent is given, at once.
//
// Environment: PORT (it listens on 127.0.0.1:PORT; its issuer is http://127.0.0.1:PORT),
// TTL (seconds an access token lives; 600 by default; a resource whose URL contains `short`
// gets 1 s). The tokens carry `email`, `groups` and `mcp_servers` (MCP_SERVERS, comma-
// separated; `every` by default) claims for the identity and scope mapping.
import Provider from "oidc-provider";

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const ttl = Number(process.env.TTL ?? 600);

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "tester",
      client_secret: "tester-secret",
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      scope: "mcp other",
      id_token_signed_response_alg: "ES256",
    },
  ],
  scopes: ["mcp", "other", "offline_access"],
  clientDefaults: { id_token_signed_response_alg: "ES256" },
  // Refresh tokens for whoever registered for them (not only after `prompt=consent`).
  issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    clientCredentials: { enabled: true },
    registration: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => ({
        scope: "mcp other",
        audience: resource,
        accessTokenFormat: "jwt",
        accessTokenTTL: resource.includes("short") ? 1 : ttl,
        jwt: { sign: { alg: "ES256" } },
      }),
    },
  },
  extraTokenClaims: () => ({
    email: "robot@example.com",
    groups: ["core", "ops"],
    mcp_servers: (process.env.MCP_SERVERS ?? "every").split(","),
  }),
  jwks: {
    keys: [
      // Made fresh for each run: nothing here is a secret of anyone's.
      await (async () => {
        const { generateKeyPair, exportJWK } = await import("jose");
        const { privateKey } = await generateKeyPair("ES256", { extractable: true });
        return { ...(await exportJWK(privateKey)), kid: "face-test", alg: "ES256", use: "sig" };
      })(),
    ],
  },
});
provider.proxy = false;
// The login and consent pages: approved at once, as `ana`, for what the client asked.
provider.use(async (ctx, next) => {
  const asked = ctx.path.match(/^\/interaction\/([\w-]+)$/);
  if (asked) {
    const interaction = await provider.Interaction.find(asked[1]);
    if (!interaction) ctx.throw(400, "unknown interaction");
    const { client_id: clientId, scope, resource } = interaction.params;
    const grant = new provider.Grant({ accountId: "ana", clientId });
    if (scope) grant.addOIDCScope(scope);
    for (const r of [resource ?? []].flat()) if (scope) grant.addResourceScope(r, scope);
    interaction.result = { login: { accountId: "ana" }, consent: { grantId: await grant.save() } };
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    return ctx.redirect(interaction.returnTo);
  }
  // A headless browser keeps no cookies: the resumed authorization gets the interaction's.
  const resumed = ctx.path.match(/^\/auth\/([\w-]+)$/);
  if (resumed && !(ctx.get("cookie") || "").includes("_interaction_resume=")) {
    const interaction = await provider.Interaction.find(resumed[1]);
    if (interaction) {
      const session = interaction.session?.cookie ? `; _session=${interaction.session.cookie}` : "";
      ctx.req.headers.cookie = `_interaction_resume=${interaction.uid}${session}`;
    }
  }
  return next();
});
provider.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening ${issuer}\n`);
});
