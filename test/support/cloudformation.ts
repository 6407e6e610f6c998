/**
 * Reading a generated CloudFormation template as CloudFormation would resolve it for one
 * deployment: pseudo parameters, parameter values, conditions, and the intrinsic functions
 * the stack uses. References to the stack's own resources stay symbolic: `Ref` of resource X
 * becomes the string `<X>`, `Fn::GetAtt` X.Arn becomes `<X.Arn>`, so an ARN built from them
 * reads `arn:aws:s3:::<ReportsBucket>/compliance-reports/*`.
 */

/** A JSON object of the template. */
export type Json = Record<string, unknown>;

/** A resource of the template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Json;
  readonly Condition?: string;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** The parts of a template the tests read. */
export interface Template {
  readonly Parameters?: Record<string, { Type: string; Default?: string } & Json>;
  readonly Conditions?: Json;
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs?: Json;
}

/** Where the template is deployed: account, region, and the parameters' values. */
export interface Deployment {
  readonly accountId: string;
  readonly region: string;
  readonly stackName: string;
  /** Values of the template's parameters; a parameter without one takes its default. */
  readonly parameters?: Record<string, string>;
}

/** Thrown when a template uses something this reader does not resolve. */
export class TemplateReadError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TemplateReadError';
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

/** A template as resolved for one deployment. */
export class ResolvedTemplate {
  readonly template: Template;
  readonly #deployment: Deployment;
  readonly #conditions = new Map<string, boolean>();

  constructor(template: Template, deployment: Deployment) {
    this.template = template;
    this.#deployment = deployment;
  }

  /** The template's resources (those whose condition holds), by logical id. */
  resources(type?: string): [string, TemplateResource][] {
    return Object.entries(this.template.Resources).filter(
      ([, resource]) =>
        (type === undefined || resource.Type === type) &&
        (resource.Condition === undefined || this.condition(resource.Condition)),
    );
  }

  /** Resource `id`'s properties, resolved. */
  properties(id: string): Json {
    const resource = this.template.Resources[id];
    if (!resource) throw new TemplateReadError(`no resource ${id}`);
    return (this.resolve(resource.Properties ?? {}) as Json) ?? {};
  }

  /** The value of condition `name`. */
  condition(name: string): boolean {
    const known = this.#conditions.get(name);
    if (known !== undefined) return known;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new TemplateReadError(`no condition ${name}`);
    const value = Boolean(this.resolve(definition));
    this.#conditions.set(name, value);
    return value;
  }

  /** The value of parameter `name`: the deployment's, else the default. */
  parameter(name: string): string | string[] {
    const definition = this.template.Parameters?.[name];
    if (!definition) throw new TemplateReadError(`no parameter ${name}`);
    const value = this.#deployment.parameters?.[name] ?? definition.Default;
    if (value === undefined) throw new TemplateReadError(`parameter ${name} has no value and no default`);
    return definition.Type.startsWith('List<') || definition.Type === 'CommaDelimitedList'
      ? value.split(',')
      : value;
  }

  /** `node` with every intrinsic function resolved (see the module's note on references). */
  resolve(node: unknown): unknown {
    const value = this.#resolve(node);
    return value === NO_VALUE ? undefined : value;
  }

  #resolve(node: unknown): unknown {
    if (Array.isArray(node))
      return node.map((item) => this.#resolve(item)).filter((item) => item !== NO_VALUE);
    if (typeof node !== 'object' || node === null) return node;
    const object = node as Json;
    const keys = Object.keys(object);
    const [key] = keys;
    if (
      keys.length === 1 &&
      key !== undefined &&
      (key === 'Ref' || key === 'Condition' || key.startsWith('Fn::'))
    )
      return this.#intrinsic(key, object[key]);
    const out: Json = {};
    for (const [name, inner] of Object.entries(object)) {
      const value = this.#resolve(inner);
      if (value !== NO_VALUE) out[name] = value;
    }
    return out;
  }

  #intrinsic(name: string, argument: unknown): unknown {
    const args = () => argument as unknown[];
    switch (name) {
      case 'Ref':
        return this.#ref(String(argument));
      case 'Condition':
        return this.condition(String(argument));
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(argument) ? argument : String(argument).split('.');
        if (!this.template.Resources[String(id)])
          throw new TemplateReadError(`GetAtt of unknown resource ${id}`);
        return `<${id}.${attribute}>`;
      }
      case 'Fn::Join': {
        const [separator, parts] = args() as [string, unknown];
        const list = this.#resolve(parts);
        if (!Array.isArray(list)) throw new TemplateReadError('Fn::Join of a non-list');
        return list.map(String).join(separator);
      }
      case 'Fn::Split': {
        const [separator, source] = args() as [string, unknown];
        return String(this.#resolve(source)).split(separator);
      }
      case 'Fn::Select': {
        const [index, list] = args() as [unknown, unknown];
        return (this.#resolve(list) as unknown[])[Number(this.#resolve(index))];
      }
      case 'Fn::Sub': {
        const [text, variables] = (Array.isArray(argument) ? argument : [argument, {}]) as [string, Json];
        return text.replace(/\$\{([^}]+)\}/g, (_, variable: string) => {
          if (variable in variables) return String(this.#resolve(variables[variable]));
          if (variable.includes('.') && !variable.startsWith('AWS::')) {
            const [id, attribute] = variable.split('.');
            return String(this.#intrinsic('Fn::GetAtt', [id, attribute]));
          }
          return String(this.#ref(variable));
        });
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = args() as [string, unknown, unknown];
        return this.condition(condition) ? this.#resolve(whenTrue) : this.#resolve(whenFalse);
      }
      case 'Fn::Equals': {
        const [a, b] = args().map((item) => this.#resolve(item));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not':
        return !this.#resolve(args()[0]);
      case 'Fn::And':
        return args().every((item) => this.#resolve(item));
      case 'Fn::Or':
        return args().some((item) => this.#resolve(item));
      default:
        throw new TemplateReadError(`${name} is not resolved by this reader`);
    }
  }

  #ref(name: string): unknown {
    const { accountId, region, stackName } = this.#deployment;
    const pseudo: Record<string, unknown> = {
      'AWS::AccountId': accountId,
      'AWS::Region': region,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stackName,
      'AWS::NoValue': NO_VALUE,
    };
    if (name in pseudo) return pseudo[name];
    if (this.template.Parameters?.[name]) return this.parameter(name);
    if (this.template.Resources[name]) return `<${name}>`;
    throw new TemplateReadError(`Ref of unknown ${name}`);
  }
}

/** `value` as a list: IAM's single values and lists alike. */
export const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** IAM's wildcard match: `*` any run of characters, `?` one. */
export function iamMatches(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}
