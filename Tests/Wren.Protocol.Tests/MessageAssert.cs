using System.Collections;
using System.Reflection;

namespace Wren.Protocol.Tests;

/// <summary>Field-by-field equality of message contracts, recursing into nested contracts and arrays.</summary>
internal static class MessageAssert
{
    public static void Equal(object? expected, object? actual) => Compare(expected, actual, expected?.GetType().Name ?? "message");

    private static void Compare(object? expected, object? actual, string path)
    {
        if (expected is null || actual is null)
        {
            if (expected is not null || actual is not null)
            {
                Assert.Fail($"{path}: expected {Show(expected)}, got {Show(actual)}");
            }

            return;
        }

        var type = expected.GetType();
        if (type != actual.GetType())
        {
            Assert.Fail($"{path}: expected a {type.Name}, got a {actual.GetType().Name}");
        }

        if (type.IsPrimitive || type.IsEnum || type == typeof(string))
        {
            if (!expected.Equals(actual))
            {
                Assert.Fail($"{path}: expected {Show(expected)}, got {Show(actual)}");
            }

            return;
        }

        if (expected is IList expectedList)
        {
            var actualList = (IList)actual;
            if (expectedList.Count != actualList.Count)
            {
                Assert.Fail($"{path}: expected {expectedList.Count} items, got {actualList.Count}");
            }

            for (int i = 0; i < expectedList.Count; i++)
            {
                Compare(expectedList[i], actualList[i], $"{path}[{i}]");
            }

            return;
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.CanRead && property.GetIndexParameters().Length == 0)
            {
                Compare(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
            }
        }
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        _ => value.ToString() ?? "?",
    };
}
