namespace Wren.Storage;

/// <summary>The store cannot do what was asked: the directory is in use, damaged or of another layout, or a write failed.</summary>
/// <remarks>The message says what happened and what an operator can do about it; it names paths, so it is not for clients.</remarks>
public class StorageException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public StorageException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public StorageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public StorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Stored data fails a check: a record does not decrypt or parse, or a log has a gap.</summary>
public sealed class StorageCorruptException : StorageException
{
    /// <summary>Creates an exception with no message.</summary>
    public StorageCorruptException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public StorageCorruptException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public StorageCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
