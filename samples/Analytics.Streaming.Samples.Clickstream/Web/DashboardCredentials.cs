using System.Security.Cryptography;
using System.Text;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>The configured dashboard user; without a configured password, a random one made at start (printed with the URL).</summary>
public sealed class DashboardCredentials
{
    private readonly byte[] _userHash;
    private readonly byte[] _passwordHash;

    /// <summary>Creates the credentials from the options.</summary>
    public DashboardCredentials(DashboardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        User = string.IsNullOrWhiteSpace(options.User) ? "admin" : options.User;
        GeneratedPassword = string.IsNullOrEmpty(options.Password);
        Password = GeneratedPassword ? RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 16) : options.Password!;
        _userHash = SHA256.HashData(Encoding.UTF8.GetBytes(User));
        _passwordHash = SHA256.HashData(Encoding.UTF8.GetBytes(Password));
    }

    /// <summary>Gets the user name.</summary>
    public string User { get; }

    /// <summary>Gets the password (printed at start when generated).</summary>
    public string Password { get; }

    /// <summary>Gets a value indicating whether the password was generated at start.</summary>
    public bool GeneratedPassword { get; }

    /// <summary>Checks a sign-in in constant time.</summary>
    public bool Check(string? user, string? password)
    {
        bool userOk = CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(user ?? string.Empty)), _userHash);
        bool passwordOk = CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(password ?? string.Empty)), _passwordHash);
        return userOk & passwordOk;
    }
}
