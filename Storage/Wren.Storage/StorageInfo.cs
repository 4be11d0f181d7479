namespace Wren.Storage;

/// <summary>Facts about the storage engine.</summary>
public static class StorageInfo
{
    /// <summary>Version of the on-disk layout; bumped when keys or values change shape.</summary>
    public const int LayoutVersion = 1;
}
