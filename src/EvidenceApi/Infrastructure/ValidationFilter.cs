using FluentValidation;

namespace EvidenceApi.Infrastructure;

/// <summary>
/// Validates the endpoint argument of type <typeparamref name="T"/> with its FluentValidation validator,
/// so handlers only see valid input. Failures become a 400 problem details keyed by field or parameter name.
/// </summary>
public sealed class ValidationFilter<T>(IValidator<T> validator) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (context.Arguments.OfType<T>().FirstOrDefault() is { } argument)
        {
            var result = await validator.ValidateAsync(argument, context.HttpContext.RequestAborted);
            if (!result.IsValid)
            {
                return TypedResults.ValidationProblem(
                    result.ToDictionary(),
                    title: "The request is not valid.",
                    detail: "See errors: each key names the parameter or field at fault.");
            }
        }

        return await next(context);
    }
}

public static class ValidationFilterExtensions
{
    /// <summary>Runs the validator of <typeparamref name="T"/> before the handler and documents the 400 answer.</summary>
    public static RouteHandlerBuilder Validate<T>(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter<ValidationFilter<T>>().ProducesValidationProblem();
}
