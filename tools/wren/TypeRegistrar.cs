using System.Diagnostics.CodeAnalysis;
using Spectre.Console.Cli;

namespace Wren.Cli;

/// <summary>
/// The smallest container Spectre.Console.Cli needs: registered instances and types, and constructor injection for
/// commands, so each invocation's <see cref="CliOutput"/> reaches its command without static state.
/// </summary>
internal sealed class TypeRegistrar : ITypeRegistrar
{
    private readonly Dictionary<Type, List<Func<TypeResolver, object>>> _registrations = [];

    public void Register(Type service, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type implementation) =>
        Add(service, resolver => resolver.Create(implementation));

    public void RegisterInstance(Type service, object implementation) => Add(service, _ => implementation);

    public void RegisterLazy(Type service, Func<object> factory) => Add(service, _ => factory());

    public ITypeResolver Build() => new TypeResolver(_registrations);

    private void Add(Type service, Func<TypeResolver, object> factory)
    {
        if (!_registrations.TryGetValue(service, out var list))
        {
            _registrations[service] = list = [];
        }

        list.Add(factory);
    }

    private sealed class TypeResolver(Dictionary<Type, List<Func<TypeResolver, object>>> registrations) : ITypeResolver
    {
        public object? Resolve(Type? type)
        {
            if (type is null)
            {
                return null;
            }

            if (registrations.TryGetValue(type, out var factories) && factories.Count > 0)
            {
                return factories[^1](this);
            }

            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            {
                var element = type.GetGenericArguments()[0];
                var items = registrations.TryGetValue(element, out var all) ? all.Select(f => f(this)).ToArray() : [];
                var array = Array.CreateInstance(element, items.Length);
                items.CopyTo(array, 0);
                return array;
            }

            return type.IsAbstract || type.IsInterface ? null : Create(type);
        }

        [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Commands and settings are kept by Spectre's own annotations.")]
        public object Create(Type type)
        {
            var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
                ?? throw new InvalidOperationException($"{type.Name} has no public constructor");
            var arguments = constructor.GetParameters()
                .Select(p => Resolve(p.ParameterType) ?? throw new InvalidOperationException($"cannot create {p.ParameterType.Name} for {type.Name}"))
                .ToArray();
            return constructor.Invoke(arguments);
        }
    }
}
