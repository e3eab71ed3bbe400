using System.Reflection;
using System.Reflection.Emit;
using EvidenceApi.OpenApi;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace EvidenceApi.Tests.Contract;

/// <summary>
/// Documents are made on request, several at once when several clients ask for one: what the schema filters keep
/// between calls must bear that. (A nullability cache shared by every request once answered a 500 with "An item with the
/// same key has already been added" when two first requests met on the same type.)
/// </summary>
public sealed class NullableReferenceSchemaFilterTests
{
    // Compilers mark nullable code with this attribute; the nullability reader matches it by name.
    private static readonly ConstructorInfo NullableContext = typeof(object).Assembly
        .GetType("System.Runtime.CompilerServices.NullableContextAttribute", throwOnError: true)!.GetConstructor([typeof(byte)])!;

    [Fact]
    public async Task NullableReference_StatedForEachSchema_WhenManyDocumentsAreMadeAtOnce()
    {
        // Types no document has seen yet, so that no earlier test has filled a cache with them.
        var types = FreshContracts(2000);
        var filter = new NullableReferenceSchemaFilter();
        using var start = new Barrier(4);

        var made = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                return types.Select(type =>
                {
                    var schema = new OpenApiSchema { Properties = new Dictionary<string, IOpenApiSchema> { ["child"] = new OpenApiSchemaReference("Uri") } };
                    // The filter reads the type alone: no generator, member or parameter.
                    filter.Apply(schema, new SchemaFilterContext(type, null!, new SchemaRepository(), null!, null!));
                    return schema;
                }).ToList();
            },
            TaskCreationOptions.LongRunning))).WaitAsync(TimeSpan.FromMinutes(2));

        // Each schema says that its child may be null: a reference or null.
        Assert.All(made.SelectMany(schemas => schemas), schema =>
        {
            var child = Assert.IsType<OpenApiSchema>(schema.Properties!["child"]);
            Assert.Equal(2, child.OneOf?.Count);
            Assert.IsType<OpenApiSchemaReference>(child.OneOf![0]);
            Assert.Equal(JsonSchemaType.Null, child.OneOf[1].Type);
        });
    }

    /// <summary>Public classes with one nullable <see cref="Uri"/> property <c>Child</c>, compiled now.</summary>
    private static List<Type> FreshContracts(int count)
    {
        var module = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName($"Contracts{Guid.NewGuid():N}"), AssemblyBuilderAccess.RunAndCollect)
            .DefineDynamicModule("Contracts");
        return Enumerable.Range(0, count).Select(i =>
        {
            var type = module.DefineType($"Contract{i}", TypeAttributes.Public | TypeAttributes.Class);
            type.SetCustomAttribute(new CustomAttributeBuilder(NullableContext, [(byte)2]));
            var field = type.DefineField("child", typeof(Uri), FieldAttributes.Private);
            var getter = type.DefineMethod("get_Child", MethodAttributes.Public | MethodAttributes.SpecialName | MethodAttributes.HideBySig, typeof(Uri), Type.EmptyTypes);
            var il = getter.GetILGenerator();
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldfld, field);
            il.Emit(OpCodes.Ret);
            type.DefineProperty("Child", PropertyAttributes.None, typeof(Uri), null).SetGetMethod(getter);
            return type.CreateType();
        }).ToList();
    }
}
