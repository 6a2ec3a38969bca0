// The interactive API reference: Swagger UI over the contract this service serves.
window.ui = SwaggerUIBundle({ url: '/openapi.yaml', dom_id: '#swagger-ui', deepLinking: true });
