using FluentValidation;

namespace EvidenceApi.Http;

/// <summary>
/// Validates the endpoint argument of type <typeparamref name="T"/> with its FluentValidation validator,
/// so handlers only see valid input. Failures become a 400 problem details keyed by field or parameter name.
/// </summary>
public sealed class ValidationFilter<T>(IValidator<T> validator, int argumentIndex) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (context.GetArgument<T?>(argumentIndex) is { } argument)
        {
            // The rules are synchronous (FluentValidation refuses to run an asynchronous rule this way), and the
            // synchronous path costs a fraction of the asynchronous one on every request.
            var result = validator.Validate(argument);
            if (!result.IsValid)
            {
                return ValueTask.FromResult<object?>(TypedResults.ValidationProblem(
                    result.ToDictionary(),
                    title: "The request is not valid.",
                    detail: "See errors: each key names the parameter or field at fault."));
            }
        }

        return next(context);
    }
}

public static class ValidationFilterExtensions
{
    /// <summary>Runs the validator of <typeparamref name="T"/> before the handler and documents the 400 answer.</summary>
    public static RouteHandlerBuilder Validate<T>(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilterFactory((factory, next) =>
            {
                // One filter per endpoint, made when the endpoint is built rather than on every request.
                var argumentIndex = Array.FindIndex(factory.MethodInfo.GetParameters(), p => p.ParameterType == typeof(T));
                if (argumentIndex < 0)
                {
                    throw new InvalidOperationException($"{factory.MethodInfo.Name} takes no {typeof(T).Name} to validate.");
                }

                var filter = new ValidationFilter<T>(factory.ApplicationServices.GetRequiredService<IValidator<T>>(), argumentIndex);
                return context => filter.InvokeAsync(context, next);
            })
            .ProducesValidationProblem();
}
