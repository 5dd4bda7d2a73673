export {
  BUILTIN_TEMPLATES_DIR,
  TemplateLibrary,
  TemplateLoadError,
  summarizeTemplate,
  type WorkflowTemplate,
  type TemplateSummary,
} from './template-library';
export { bindVariables, type BindResult, type BoundDefinition } from './bind-variables';
