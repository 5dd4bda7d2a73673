import type { Provider, Type } from '@nestjs/common';
import { AnalyzerClient } from './analyzer.client';
import { AnalyzerRunsController } from './analyzer-runs.controller';
import { LearningPromoteListener } from './learning-promote.listener';
import { LearningStatsController } from './learning-stats.controller';
import { PatternPromotionService } from './pattern-promotion.service';
import { PatternsController } from './patterns.controller';
import { SuggestionsController } from './suggestions.controller';

/** The learning routes: patterns, promotion, analyzer runs, suggestions and learning statistics. */
export const LEARNING_CONTROLLERS: Type<unknown>[] = [PatternsController, AnalyzerRunsController, SuggestionsController, LearningStatsController];

/** `AnalyzerClient` is exported for other gateway features (the OpenAI proxy asks it for suggestions). */
export const LEARNING_PROVIDERS: Provider[] = [AnalyzerClient, PatternPromotionService, LearningPromoteListener];
