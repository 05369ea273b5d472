using System.Globalization;
using System.Text;
using Analytics.Streaming.Samples.OrderTracking.Orders;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Analytics.Streaming.Samples.OrderTracking.Processing;

/// <summary>Where confirmation e-mails go.</summary>
public interface IMailTransport : IAsyncDisposable
{
    /// <summary>Gets a description, for the start-up lines.</summary>
    string Location { get; }

    /// <summary>Sends one message; throws when the server refused it or could not be reached.</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the server (or the folder) accepted the message.</returns>
    Task SendAsync(MimeMessage message, CancellationToken cancellationToken);
}

/// <summary>Builds the confirmation e-mail of an order, the same bytes-for-content every time, with a Message-Id derived from the order id.</summary>
public sealed class ConfirmationMessages(EmailOptions options)
{
    /// <summary>The stable Message-Id of an order's confirmation (without angle brackets), so a resend after a crash is recognisable as the same message.</summary>
    /// <param name="orderId">The order id (letters, digits, '.', '_', '-').</param>
    /// <returns>The Message-Id, such as <c>order-o-1.confirmation@orders.shop.example</c>.</returns>
    public string MessageId(string orderId) => $"order-{orderId}.confirmation@{options.MessageIdDomain}";

    /// <summary>Builds the confirmation.</summary>
    /// <param name="order">The order's event (any version: every event carries the whole order).</param>
    /// <returns>The message.</returns>
    public MimeMessage Build(OrderEvent order)
    {
        ArgumentNullException.ThrowIfNull(order);
        var message = new MimeMessage
        {
            MessageId = MessageId(order.OrderId),
            Date = order.Time,
            Subject = $"Your order {order.OrderId} is confirmed",
        };
        message.From.Add(new MailboxAddress(options.FromName, options.From));
        message.To.Add(MailboxAddress.Parse(order.Email));
        message.Headers.Add("X-Order-Id", order.OrderId);

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Thank you for your order {order.OrderId}.\n\n");
        foreach (var item in order.Items)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {item.Quantity} x {item.Sku} at {item.UnitPrice:0.00}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"\nTotal: {order.Amount:0.00}\n\nWe will let you know when it ships.\n");
        message.Body = new TextPart("plain") { Text = text.ToString() };
        return message;
    }
}

/// <summary>The embedded default: each message as <c>{Message-Id}.eml</c> in a folder (written to a temporary name, then moved, so readers never see half a file; a resend overwrites the same file).</summary>
public sealed class PickupFolderTransport : IMailTransport
{
    private readonly string _folder;

    /// <summary>Creates the folder if needed.</summary>
    /// <param name="folder">The folder.</param>
    public PickupFolderTransport(string folder)
    {
        _folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(_folder);
    }

    /// <inheritdoc />
    public string Location => $"pickup folder {_folder}";

    /// <inheritdoc />
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        string name = string.Concat((message.MessageId ?? throw new ArgumentException("The message has no Message-Id.", nameof(message))).Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '@' ? c : '_'));
        string path = Path.Combine(_folder, name + ".eml");
        string temporary = path + ".tmp";
        await using (var file = File.Create(temporary))
        {
            await message.WriteToAsync(file, cancellationToken).ConfigureAwait(false);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Any SMTP server through MailKit: one connection, reused, opened on first use and again after a failure; sends are
/// serialized on it. Host, port, credentials and TLS come from <see cref="SmtpOptions"/>.
/// </summary>
public sealed class SmtpTransport(SmtpOptions options) : IMailTransport
{
    private readonly SmtpClient _client = new() { Timeout = (int)options.Timeout.TotalMilliseconds };
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <inheritdoc />
    public string Location => string.Create(CultureInfo.InvariantCulture, $"SMTP {options.Host}:{options.Port} ({options.Security}{(string.IsNullOrEmpty(options.User) ? string.Empty : ", user " + options.User)})");

    /// <inheritdoc />
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            try
            {
                if (!_client.IsConnected)
                {
                    var security = options.Security switch
                    {
                        SmtpSecurity.None => SecureSocketOptions.None,
                        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
                        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
                        _ => SecureSocketOptions.StartTlsWhenAvailable,
                    };
                    await _client.ConnectAsync(options.Host ?? throw new InvalidOperationException("Smtp:Host is not set."), options.Port, security, cancellationToken).ConfigureAwait(false);
                    if (!string.IsNullOrEmpty(options.User))
                    {
                        await _client.AuthenticateAsync(options.User, options.Password ?? string.Empty, cancellationToken).ConfigureAwait(false);
                    }
                }

                await _client.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Start from a fresh connection next time (the server may have dropped this one).
                try
                {
                    await _client.DisconnectAsync(quit: false, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception disconnect) when (disconnect is IOException or MailKit.ServiceNotConnectedException or InvalidOperationException)
                {
                }

                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync(quit: true, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or MailKit.ServiceNotConnectedException or MailKit.Net.Smtp.SmtpCommandException or MailKit.Net.Smtp.SmtpProtocolException)
            {
            }
        }

        _client.Dispose();
        _gate.Dispose();
    }
}
