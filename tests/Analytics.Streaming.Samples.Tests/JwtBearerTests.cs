using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Analytics.Streaming.Samples.Tests;

/// <summary>
/// With <c>Jwt:Authority</c> set (an OIDC issuer such as Cognito), bearer tokens open the API; here the issuer's
/// signing key is given to the handler directly instead of being fetched from the issuer's metadata.
/// </summary>
public sealed class JwtBearerTests
{
    private const string Issuer = "https://issuer.example/pool";
    private static readonly SymmetricSecurityKey Key = new(Encoding.UTF8.GetBytes("a test signing key of at least 256 bits, not a secret"));

    [Fact]
    public async Task Api_BearerToken_FromTheConfiguredIssuer_Is200_OthersAre401()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var factory = TrustingFactory(new Dictionary<string, string?> { ["Jwt:Authority"] = Issuer, ["Jwt:Audience"] = "dashboard" });
        using var client = factory.CreateBrowserlikeClient();

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, Token(Key, "dashboard", Issuer), ct));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, Token(new SymmetricSecurityKey(Encoding.UTF8.GetBytes("another key of at least 256 bits, also not secret")), "dashboard", Issuer), ct));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, Token(Key, "someone-else", Issuer), ct));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, Token(Key, "dashboard", "https://evil.example"), ct));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, "not-a-token", ct));
    }

    [Fact]
    public async Task Api_CognitoAccessToken_OfTheDashboardsClient_Is200_OfAnotherClientIs401()
    {
        // Cognito access tokens carry no aud, only client_id: another app client of the same pool must not get in.
        var ct = TestContext.Current.CancellationToken;
        await using var factory = TrustingFactory(new Dictionary<string, string?> { ["Jwt:Authority"] = Issuer, ["Jwt:Audience"] = "dashboard" });
        using var client = factory.CreateBrowserlikeClient();

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, Token(Key, null, Issuer, clientId: "dashboard"), ct));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, Token(Key, null, Issuer, clientId: "shop-customers"), ct));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, Token(Key, null, Issuer), ct));
    }

    [Fact]
    public async Task Start_AuthorityWithoutAudience_FailsAndSaysWhatToSet()
    {
        await using var factory = TrustingFactory(new Dictionary<string, string?> { ["Jwt:Authority"] = Issuer });

        var error = Assert.Throws<InvalidOperationException>(() => factory.CreateBrowserlikeClient());

        Assert.Contains("Jwt:Audience", error.Message, StringComparison.Ordinal);
    }

    private static WebAnalyticsFactory TrustingFactory(Dictionary<string, string?> settings) => new(
        settings,
        services => services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o =>
        {
            o.ConfigurationManager = null;
            o.Configuration = new Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration { Issuer = Issuer };
            o.Configuration.SigningKeys.Add(Key);
            o.TokenValidationParameters.ValidIssuer = Issuer;
            o.TokenValidationParameters.IssuerSigningKey = Key;
        }));

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string token, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request, ct);
        return response.StatusCode;
    }

    private static string Token(SecurityKey key, string? audience, string issuer, string? clientId = null) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = issuer,
        Audience = audience,
        Subject = new ClaimsIdentity(clientId is null ? [new Claim("sub", "user-1")] : [new Claim("sub", "user-1"), new Claim("client_id", clientId)]),
        Expires = DateTime.UtcNow.AddMinutes(5),
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
    });
}
