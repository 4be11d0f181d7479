namespace Wren.Broker.Core;

/// <summary>Operations of the hosting process that administrators can ask for over the wire.</summary>
/// <remarks>The routing core never sees sockets or files; the host implements these and sets <see cref="BrokerCore.HostOperations"/>.</remarks>
public interface IHostOperations
{
    /// <summary>Reads the configured certificate file again; new connections use it, live ones keep theirs.</summary>
    /// <remarks>A file that cannot be used leaves the current certificate in force and throws.</remarks>
    /// <exception cref="HostOperationException">TLS is off, or the file is missing or unusable.</exception>
    Task<CertificateInfo> ReloadCertificateAsync();

    /// <summary>Generates a new at-rest data key, persists the key ring, and makes the key current for new writes.</summary>
    /// <exception cref="HostOperationException">The key ring cannot be written or is full.</exception>
    Task<KeyRingStatus> RotateEncryptionKeyAsync();

    /// <summary>The key ring as it is in force.</summary>
    KeyRingStatus GetKeyRingStatus();
}

/// <summary>The certificate in force.</summary>
/// <param name="Subject">Its subject.</param>
/// <param name="Fingerprint">SHA-256 fingerprint, as clients pin it.</param>
/// <param name="NotAfterMs">Expiry, Unix milliseconds.</param>
public sealed record CertificateInfo(string Subject, string Fingerprint, long NotAfterMs);

/// <summary>The at-rest key ring.</summary>
/// <param name="ActiveKeyId">The key that seals new message bodies; 0 when bodies are written in plaintext.</param>
/// <param name="KeyIds">Every key id that can still be read, ascending.</param>
public sealed record KeyRingStatus(byte ActiveKeyId, IReadOnlyList<byte> KeyIds);

/// <summary>A host operation failed; the message is safe to show to an administrator.</summary>
public sealed class HostOperationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HostOperationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public HostOperationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public HostOperationException()
    {
    }
}
